"""Chat rooms through apprise: Slack, Mattermost, Matrix, Teams, Discord and the rest, by URL."""

from __future__ import annotations

from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import apprise

from adapters.alerting.escape import Dialect
from adapters.alerting.limits import MAX_FIELD, FieldLimits
from adapters.alerting.notice import Notice
from adapters.alerting.sinks.base import DeliveryError, Sink

_TYPES = {
    "critical": apprise.NotifyType.FAILURE,
    "warning": apprise.NotifyType.WARNING,
    "info": apprise.NotifyType.INFO,
}


def with_timeouts(url: str, timeout: float) -> str:
    """Add apprise's connect/read timeouts (``cto``/``rto``) unless the URL sets them."""
    parts = urlsplit(url)
    query = dict(parse_qsl(parts.query, keep_blank_values=True))
    query.setdefault("cto", f"{timeout:g}")
    query.setdefault("rto", f"{timeout:g}")
    return urlunsplit(parts._replace(query=urlencode(query)))


class ChatSink(Sink):
    """Posts a CommonMark message; apprise fits it to each service's own dialect.

    Everything from the firing is escaped as markdown with mentions broken and
    links defanged, so only the sink's own formatting (bold headline) renders.
    """

    def __init__(
        self,
        url: str,
        *,
        name: str = "chat",
        timeout: float = 10.0,
        max_title: int = 200,
        max_text: int = 3000,
        dialect: Dialect = "markdown",
        max_field: int = MAX_FIELD,
    ) -> None:
        self.name = name
        self._apprise = apprise.Apprise()
        if not self._apprise.add(with_timeouts(url, timeout)):
            raise ValueError(f"sink {name}: apprise does not understand this URL")
        self.max_title = max_title
        self.max_text = max_text
        self.dialect = dialect
        self.limits = FieldLimits(max_field)

    def render(self, notice: Notice) -> tuple[str, str]:
        """(title, body) as they will be posted."""
        firing = notice.firing
        field = self.limits.text
        title = field(firing.title, self.dialect, self.max_title, single_line=True)
        head = f"[{notice.headline()}] {title}"
        body_parts: list[str] = []
        if firing.text and notice.kind != "resolved":
            body_parts.append(field(firing.text, self.dialect, self.max_text))
        footer = field(notice.footer(), self.dialect, 600, single_line=True)
        body_parts.append(f"_{footer}_" if self.dialect == "markdown" else footer)
        return head, "\n\n".join(body_parts)

    def send(self, notice: Notice) -> None:
        title, body = self.render(notice)
        kind = apprise.NotifyType.SUCCESS if notice.kind == "resolved" else _TYPES.get(
            notice.firing.severity, apprise.NotifyType.INFO)
        fmt = apprise.NotifyFormat.MARKDOWN if self.dialect == "markdown" else (
            apprise.NotifyFormat.TEXT)
        result = self._apprise.notify(body=body, title=title, notify_type=kind, body_format=fmt)
        if not result:
            raise DeliveryError(f"apprise could not deliver to {self.name}")
