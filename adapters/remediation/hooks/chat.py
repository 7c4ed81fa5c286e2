"""Post a comment to the configured chat room(s) through apprise."""

from __future__ import annotations

from typing import Any

import apprise

from adapters.alerting.escape import escape_limited
from adapters.alerting.sinks.chat import with_timeouts
from adapters.remediation.hooks.base import Hook, HookError, InvalidArgs


class ChatComment(Hook):
    """The text comes from the rule's templates, so it is escaped like any alert."""

    name = "chat.comment"

    def validate(self, args: dict[str, Any]) -> dict[str, Any]:
        text = args.get("text")
        if not isinstance(text, str) or not text.strip():
            raise InvalidArgs("text must be a non-empty string")
        if not self.config.chat_urls:
            raise InvalidArgs("no chat_urls configured for chat.comment")
        return {"text": escape_limited(text, "markdown", 3000)}

    def target(self, args: dict[str, Any]) -> str:
        return "chat"

    def describe(self, args: dict[str, Any]) -> str:
        return f"would post to {len(self.config.chat_urls)} chat room(s): {args['text'][:200]}"

    def run(self, args: dict[str, Any], timeout: float) -> dict[str, Any]:
        client = apprise.Apprise()
        for url in self.config.chat_urls:
            client.add(with_timeouts(url.reveal(), timeout))
        if not client.notify(body=args["text"], body_format=apprise.NotifyFormat.MARKDOWN):
            raise HookError("apprise could not post the comment")
        return {"posted": len(self.config.chat_urls)}
