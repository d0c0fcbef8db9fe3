/* The words of a chat robot's message (SPEC §11), in one place: what a
 * leader reads on a phone for a firing, a resolution (and how long it
 * lasted), a repeat, an escalation, the end of a silence, several counties
 * that changed together, and the daily digest, in Chinese or English. Pure:
 * text from the message's numbers; no I/O, no clock. The receiver kinds
 * (rcv_wecom.c, rcv_dingtalk.c, rcv_feishu.c) wrap it in their bodies. */
#ifndef GRADCOVER_ALERTS_MESSAGE_H
#define GRADCOVER_ALERTS_MESSAGE_H

#include <stddef.h>

#include "gradcover/alerts/receiver.h"

/* How a robot shows text. */
enum message_style {
    MESSAGE_MARKDOWN,      /* WeCom markdown: **bold**, [text](url), lines end in "\n" */
    MESSAGE_MARKDOWN_PARA, /* DingTalk markdown: the same, a blank line between lines
                              (it joins lines a single "\n" separates) */
    MESSAGE_PLAIN,         /* Feishu text: no markup, links written out */
};

/* The text of m in its language and this style, at most max bytes (max >=
 * MESSAGE_MIN_MAX): a message listing more counties than fit ends with how
 * many were left out and the dashboard's link. A new string (free()), NULL
 * when memory ran out. */
char *message_text(const struct receiver_message *m, enum message_style style, size_t max);

/* The least max message_text accepts: room for a header, the "and N more"
 * line and the links. */
#define MESSAGE_MIN_MAX 1024

/* One line without markup that names the message (DingTalk's markdown
 * title, the line a phone's notification shows), into out (n bytes). */
void message_title(const struct receiver_message *m, char *out, size_t n);

#endif
