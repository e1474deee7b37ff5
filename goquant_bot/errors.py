"""One exception hierarchy, named by the reaction the caller owes.

- ``TransientError``: retry later (with backoff); the supervisor restarts the component.
- ``RejectedInput``: a user's input or a venue frame is invalid; reject it, keep running.
- ``ConfigError``: the configuration is unusable; stop start-up with a clear message.
Anything else escaping a component is a bug: it is logged and the process exits non-zero.
"""

from __future__ import annotations


class GoQuantError(Exception):
    """Base of every error the program raises on purpose."""


class TransientError(GoQuantError):
    """A failure that may succeed later: reconnect or retry with backoff."""


class VenueUnavailable(TransientError):
    """A venue's WebSocket or REST endpoint cannot be reached or refused us."""


class RejectedInput(GoQuantError):
    """Invalid input (a user's command, a venue frame); reject it with a reason."""


class VenueProtocolError(RejectedInput):
    """A venue frame could not be parsed or does not follow the venue's documented format."""


class ConfigError(GoQuantError):
    """The settings are invalid; the message names the setting, the value and what is allowed."""
