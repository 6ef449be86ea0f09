"""One error root for every backend (after django-anymail's AnymailError).

``permanent`` decides what the dispatcher does: a transient error (timeout, connection
refused, 5xx) is retried with backoff; a permanent one (4xx, validation, bad credentials)
fails the order visibly with ``message`` as the reason staff read. Configuration errors are
their own class: the interface definition is wrong, and no retry can fix that.
"""


class BackendError(Exception):
    permanent = False
    #: The lab may have the order although we saw no answer (see ``DeliveryUncertain``).
    ambiguous = False

    def __init__(self, message, *, permanent=None, detail="", response=None, status_code=None):
        super().__init__(message)
        self.message = str(message)
        if permanent is not None:
            self.permanent = permanent
        self.detail = detail
        self.response = response
        self.status_code = status_code

    def __str__(self):
        return self.message


class TransientError(BackendError):
    """The lab could not be reached or had a passing fault: try again later."""

    permanent = False


class DeliveryUncertain(TransientError):
    """The order went out, but the lab's answer never came: it may already have the order.

    Raised only after the point where the lab could have taken the order (the e-mail's DATA,
    an HTTP request sent whose answer was lost). It is never repeated within the attempt;
    the dispatcher records the attempt as "möglicherweise bereits zugestellt" and sends the
    repeat later under the same ``idempotency_key`` so that the lab can drop the copy.
    """

    ambiguous = True

    def __init__(self, message, *, idempotency_key="", **kwargs):
        super().__init__(message, **kwargs)
        self.idempotency_key = idempotency_key


class PermanentError(BackendError):
    """The lab refused the order: retrying the same order would not help."""

    permanent = True


class OrderRejected(PermanentError):
    """The order itself is not acceptable for this backend (missing or invalid data)."""


class ConfigurationError(BackendError):
    """The interface definition is wrong (missing option, bad URL, unknown backend)."""

    permanent = True


class BackendNotAvailable(ConfigurationError):
    """The backend's key is registered, but the interface is not available yet."""
