"""Standard Bestellprozess: the normal purchase order, executed by the supplier's order method.

* e-mail: the PDF order form goes to the supplier's order address by SMTP (``EMAIL_URL``),
  the order number in the subject, the order's UUID in the Message-ID so that a lab's
  mail system can recognise a re-delivery; the scans of the ears' digital impressions are
  attached under the name the PDF gives them, up to ``OTOORDER_MAIL_SCAN_LIMIT_MB`` for all
  of them together; beyond it the PDF says that the branch sends the file separately and the
  result tells staff so;
* print, fax, phone: the PDF is produced and the order waits for staff to confirm that they
  printed, faxed or phoned it (``awaiting_manual``);
* cancellation: e-mail suppliers get a "STORNO" e-mail with the cancellation PDF
  (``pdf.render_cancellation_form``) → *pending* (the lab answers by mail or phone, staff
  record it); print, fax and phone suppliers → *manual* (staff report it to the lab);
* staff's answer to a lab question goes by e-mail to the supplier's order address, the
  lab's question quoted.

Wire format: ``docs/interfaces/standard.md``.
"""

import os
import smtplib
import socket

from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.core.mail.backends.smtp import EmailBackend as SMTPEmailBackend
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from .base import BaseBackend, attachment_content, scan_content
from .exceptions import (
    ConfigurationError,
    DeliveryUncertain,
    OrderRejected,
    PermanentError,
    TransientError,
)
from .options import Option
from .pdf import render_cancellation_form, render_order_form
from .result import CancelResult, CancelStatus, DispatchResult, MessageResult, ResultStatus

MANUAL_METHODS = {"print", "fax", "phone"}


class _DataTrackingMixin:
    """Remembers whether the DATA command of the current message went out.

    Before DATA the lab's mail server cannot have the message; from DATA on (the content,
    the wait for the final "250") a lost line leaves it open whether the lab has it.
    """

    data_started = False

    def data(self, msg):
        self.data_started = True
        return super().data(msg)


class _TrackedSMTP(_DataTrackingMixin, smtplib.SMTP):
    pass


class _TrackedSMTPSSL(_DataTrackingMixin, smtplib.SMTP_SSL):
    pass


class TrackedSMTPBackend(SMTPEmailBackend):
    """Django's SMTP backend on an ``smtplib`` client that knows when DATA was sent."""

    @property
    def connection_class(self):
        return _TrackedSMTPSSL if self.use_ssl else _TrackedSMTP


DJANGO_SMTP_BACKEND = "django.core.mail.backends.smtp.EmailBackend"


class _ConnectionCache:
    """One open SMTP connection per worker process, reused from order to order.

    Opening a connection (TCP, greeting, EHLO, maybe TLS and login) costs more than sending
    one order. A connection the server has closed meanwhile shows up as
    ``SMTPServerDisconnected``. Only if the line broke **before DATA** (the lab certainly has
    nothing) is the message sent once more on a fresh connection. A line that broke after
    DATA, or a timeout waiting for the final answer, is ``DeliveryUncertain``: the lab may
    have the order, so it is never repeated here but later by the dispatcher, with the same
    Message-ID. The key follows the settings, so a changed ``EMAIL_URL`` (or a forked
    worker) never reuses the wrong connection.
    """

    def __init__(self):
        self.key = self.connection = None

    def _key(self, timeout):
        names = ("EMAIL_BACKEND", "EMAIL_HOST", "EMAIL_PORT", "EMAIL_HOST_USER", "EMAIL_USE_TLS", "EMAIL_USE_SSL")
        return (os.getpid(), timeout, *(getattr(settings, name, None) for name in names))

    def _open(self, key, timeout):
        self.close()
        backend = settings.EMAIL_BACKEND
        if backend == DJANGO_SMTP_BACKEND:
            backend = f"{__name__}.TrackedSMTPBackend"
        connection = get_connection(backend, fail_silently=False, timeout=timeout)
        connection.open()
        self.connection, self.key = connection, key

    def _data_started(self):
        client = getattr(self.connection, "connection", None)
        return bool(getattr(client, "data_started", False))

    def _send_once(self, message):
        client = getattr(self.connection, "connection", None)
        if client is not None:
            client.data_started = False
        try:
            return self.connection.send_messages([message])
        except smtplib.SMTPResponseException:
            raise  # the server answered: a clear yes or no, nothing uncertain
        except Exception as exc:
            if self._data_started():
                self.close()
                raise _uncertain(message, exc) from exc
            raise

    def send(self, message, *, timeout):
        key = self._key(timeout)
        if self.connection is None or self.key != key:
            self._open(key, timeout)
        try:
            return self._send_once(message)
        except smtplib.SMTPServerDisconnected:
            # Before DATA: the lab has nothing yet, one fresh connection may send it.
            self._open(key, timeout)
        except Exception:
            self.close()
            raise
        try:
            return self._send_once(message)
        except Exception:
            self.close()
            raise

    def close(self):
        if self.connection is not None:
            try:
                self.connection.close()
            except Exception:  # noqa: BLE001 - a broken connection is dropped either way
                pass
        self.connection = self.key = None


def _uncertain(message, exc):
    return DeliveryUncertain(
        code="smtp_uncertain",
        params={"kind": type(exc).__name__},
        idempotency_key=message.extra_headers.get("Message-ID", ""),
        detail=str(exc),
    )


_connections = _ConnectionCache()


class StandardBackend(BaseBackend):
    key = "standard"
    label = "Standard Bestellprozess"
    description = gettext_lazy(
        "Bestellung nach der Bestellform des Lieferanten: E-Mail mit PDF-Bestellformular, "
        "oder Druck/Fax/Telefon mit Bestätigung durch den Mitarbeiter."
    )
    options = (
        Option(
            "from_email",
            gettext_lazy("Absender-Adresse"),
            kind="email",
            required=False,
            help_text=gettext_lazy("Leer: die Standard-Absenderadresse des Systems."),
        ),
        Option(
            "reply_to",
            gettext_lazy("Antwort an"),
            kind="email",
            required=False,
            help_text=gettext_lazy("Leer: die E-Mail-Adresse der bestellenden Filiale."),
        ),
        Option("cc", gettext_lazy("Kopie an"), kind="email", required=False),
    )
    #: The e-mail carries the order's attachments after the order form.
    accepts_attachments = True
    #: The e-mail carries the scans within ``OTOORDER_MAIL_SCAN_LIMIT_MB`` (``scan_files``).
    accepts_scans = True
    supports_cancellation = True
    supports_lab_messages = True

    def validate(self, document):
        super().validate(document)
        method = document.supplier_order_method
        if method == "email" and not document.supplier.email:
            raise OrderRejected(code="supplier_without_email", params={"name": document.supplier.name})
        if method not in MANUAL_METHODS | {"email"}:
            raise ConfigurationError(code="supplier_by_interface", params={"name": document.supplier.name})

    def _scans_by_delivery(self, document):
        """``(attached, separate)``: the scans that fit into the e-mail together (ears in the
        document's order), and those beyond ``OTOORDER_MAIL_SCAN_LIMIT_MB``."""
        if document.supplier_order_method in MANUAL_METHODS:
            return [], list(document.scans)  # paper, fax and phone carry no file
        limit = int(settings.OTOORDER_MAIL_SCAN_LIMIT_MB * 1024 * 1024)
        attached, separate, total = [], [], 0
        for scan in document.scans:
            size = scan.size or len(scan_content(scan))
            if total + size <= limit:
                attached.append(scan)
                total += size
            else:
                separate.append(scan)
        return attached, separate

    def scan_files(self, document):
        """``(name, bytes, content type)`` of the scans the e-mail carries, named as in the PDF."""
        attached, _separate = self._scans_by_delivery(document)
        return [(scan.filename, scan_content(scan), scan.content_type) for scan in attached]

    def _scan_notes(self, attached, separate):
        """Per ear, the PDF's sentence on how the scan file reaches the lab."""
        notes = {scan.side: _("Als Anhang dieser E-Mail: %(name)s") % {"name": scan.filename} for scan in attached}
        for scan in separate:
            notes[scan.side] = _(
                "Nicht in dieser Sendung (%(size)s MB): die Filiale sendet die Datei %(name)s separat; "
                "bei Bedarf bitte dort anfordern (Bestellnummer angeben)."
            ) % {"name": scan.filename, "size": _megabytes(scan.size)}
        return notes

    def build_payload(self, document):
        attached, separate = self._scans_by_delivery(document)
        files = [(scan.filename, scan_content(scan), scan.content_type) for scan in attached]
        pdf = render_order_form(document, scan_notes=self._scan_notes(attached, separate))
        separate_summary = [{"side": scan.side, "name": scan.filename, "size": scan.size} for scan in separate]
        if document.supplier_order_method in MANUAL_METHODS:
            return {"pdf": pdf, "message": None, "scans_separate": separate_summary}
        subject = _("Otoplastik-Bestellung %(number)s – Kd.-Nr. %(account)s") % {
            "number": document.order_number,
            "account": document.supplier_account or "-",
        }
        body = _(
            "Sehr geehrte Damen und Herren,\n\nim Anhang erhalten Sie unsere Otoplastik-Bestellung "
            "%(number)s (%(items)s).\nUnsere Kundennummer: %(account)s\nBestellende Filiale: %(branch)s\n\n"
            "Bitte geben Sie bei Rückfragen die Bestellnummer an.\n\nMit freundlichen Grüßen\n%(branch)s"
        ) % {
            "number": document.order_number,
            "items": ", ".join(item.side_label for item in document.items),
            "account": document.supplier_account or "-",
            "branch": document.branch.name,
        }
        reply_to = self.config.get("reply_to") or document.branch.email
        message = EmailMessage(
            subject=subject,
            body=body,
            from_email=self.config.get("from_email") or settings.DEFAULT_FROM_EMAIL,
            to=[document.supplier.email],
            cc=[self.config["cc"]] if self.config.get("cc") else None,
            reply_to=[reply_to] if reply_to else None,
            headers={
                "Message-ID": f"<{document.order_id}@otoorder>",
                "X-Otoorder-Order-Id": document.order_id,
            },
        )
        message.attach(f"Bestellung-{document.order_number}.pdf", pdf, "application/pdf")
        for name, content, content_type in files:
            message.attach(name, content, content_type)
        for attachment in document.attachments:
            message.attach(attachment.name, attachment_content(attachment), attachment.content_type)
        return {"pdf": pdf, "message": message, "scans_separate": separate_summary}

    def transmit(self, payload, document):
        message = payload["message"]
        if message is None:
            return None
        return self._deliver(message, what=_("die Bestellung"))

    def _deliver(self, message, *, what):
        """Send ``message`` on the worker's SMTP connection; SMTP failures → our errors."""
        try:
            sent = _connections.send(message, timeout=self.timeout)
        except DeliveryUncertain:
            raise
        except smtplib.SMTPAuthenticationError as exc:
            raise ConfigurationError(code="smtp_auth", detail=str(exc)) from exc
        except smtplib.SMTPRecipientsRefused as exc:
            codes = [code for code, _msg in exc.recipients.values()]
            if any(code >= 500 for code in codes):
                raise PermanentError(
                    code="smtp_recipient_refused",
                    params={"to": ", ".join(exc.recipients)},
                    detail=str(exc.recipients),
                ) from exc
            raise TransientError(code="smtp_busy", detail=str(exc)) from exc
        except smtplib.SMTPResponseException as exc:
            if exc.smtp_code >= 500:
                raise PermanentError(
                    code="smtp_refused",
                    params={"what": what, "code": exc.smtp_code},
                    detail=str(exc.smtp_error),
                ) from exc
            raise TransientError(
                code="smtp_not_ready",
                params={"code": exc.smtp_code},
                detail=str(exc.smtp_error),
            ) from exc
        except (smtplib.SMTPException, OSError, socket.timeout) as exc:
            raise TransientError(
                code="smtp_unreachable", params={"kind": type(exc).__name__}, detail=str(exc)
            ) from exc
        if not sent:
            raise TransientError(code="smtp_not_sent")
        return sent

    def parse_result(self, response, payload, document):
        summary = {"order_method": document.supplier_order_method, "pdf_bytes": len(payload["pdf"])}
        separate = payload.get("scans_separate") or []
        if separate:
            summary["scans_separate"] = separate
        # Staff must send what did not travel (the PDF tells the lab so).
        names = ", ".join(f"{scan['name']} ({_megabytes(scan['size'])} MB)" for scan in separate)
        follow_up = (
            " " + _("Bitte die Scan-Datei(en) %(names)s separat an das Labor senden (nicht in dieser Sendung).")
            % {"names": names}
            if separate
            else ""
        )
        # The order's event says it in the reader's language (``event_texts``: ``scans_separate``).
        data = {"scans_separate": names} if separate else {}
        if payload["message"] is None:
            return DispatchResult(
                ResultStatus.AWAITING_MANUAL,
                message=_("Bestellformular erstellt: bitte per %(method)s bestellen und danach bestätigen.")
                % {"method": _method_label(document.supplier_order_method)}
                + follow_up,
                request_summary=summary,
                data=data,
            )
        message = payload["message"]
        summary.update({"to": message.to, "subject": message.subject})
        return DispatchResult(
            ResultStatus.ORDERED,
            message=_("Bestellung per E-Mail an %(to)s gesendet.") % {"to": ", ".join(message.to)} + follow_up,
            request_summary=summary,
            raw_response=_("SMTP: Nachricht angenommen."),
            data={**data, "email_to": ", ".join(message.to)},
        )

    # --- cancellation and answers to lab questions ----------------------------------------

    def _sender(self, document):
        reply_to = self.config.get("reply_to") or document.branch.email
        return {
            "from_email": self.config.get("from_email") or settings.DEFAULT_FROM_EMAIL,
            "cc": [self.config["cc"]] if self.config.get("cc") else None,
            "reply_to": [reply_to] if reply_to else None,
        }

    def build_cancellation(self, request):
        """The "STORNO" e-mail with the cancellation PDF (nothing is sent yet)."""
        document = request.order
        subject = _("STORNO Otoplastik-Bestellung %(number)s – Kd.-Nr. %(account)s") % {
            "number": document.order_number,
            "account": document.supplier_account or "-",
        }
        body = _(
            "Sehr geehrte Damen und Herren,\n\nbitte STORNIEREN Sie unsere Otoplastik-Bestellung %(number)s"
            "%(lab)s.\nGrund: %(reason)s\nUnsere Kundennummer: %(account)s\nBestellende Filiale: %(branch)s\n\n"
            "Bitte bestätigen Sie die Stornierung oder teilen Sie uns mit, falls die Otoplastik bereits in "
            "Fertigung ist.\n\nMit freundlichen Grüßen\n%(branch)s"
        ) % {
            "number": document.order_number,
            "lab": (_(" (Ihre Auftragsnummer %(ref)s)") % {"ref": request.lab_reference}) if request.lab_reference else "",
            "reason": request.reason or "-",
            "account": document.supplier_account or "-",
            "branch": document.branch.name,
        }
        message = EmailMessage(
            subject=subject,
            body=body,
            to=[document.supplier.email],
            headers={
                "Message-ID": f"<{request.idempotency_key}@otoorder>",
                "In-Reply-To": f"<{document.order_id}@otoorder>",
                "References": f"<{document.order_id}@otoorder>",
                "X-Otoorder-Order-Id": document.order_id,
                "X-Otoorder-Cancellation-Id": request.idempotency_key,
            },
            **self._sender(document),
        )
        pdf = render_cancellation_form(request)
        message.attach(f"Storno-{document.order_number}.pdf", pdf, "application/pdf")
        return message, pdf

    def cancel(self, request):
        """E-mail suppliers: the STORNO e-mail → pending; print, fax, phone: manual."""
        document = request.order
        if document.supplier_order_method in MANUAL_METHODS or not document.supplier.email:
            return CancelResult(
                CancelStatus.MANUAL,
                message=_("Der Lieferant bestellt per %(method)s: bitte die Stornierung beim Labor melden.")
                % {"method": _method_label(document.supplier_order_method)},
            )
        message, pdf = self.build_cancellation(request)
        self._deliver(message, what=_("die Stornierung"))
        return CancelResult(
            CancelStatus.PENDING,
            message=_("Stornierung per E-Mail an %(to)s gesendet; das Labor antwortet per E-Mail oder Telefon.")
            % {"to": ", ".join(message.to)},
            request_summary={
                "to": message.to,
                "subject": message.subject,
                "pdf_bytes": len(pdf),
                "idempotency_key": request.idempotency_key,
            },
            raw_response=_("SMTP: Nachricht angenommen."),
        )

    def build_message(self, message):
        """The e-mail with staff's answer to the lab's question (quoted)."""
        document = message.order
        if not document.supplier.email:
            raise OrderRejected(code="supplier_without_email_answer", params={"name": document.supplier.name})
        subject = _("Rückfrage zur Otoplastik-Bestellung %(number)s – Antwort") % {"number": document.order_number}
        if message.lab_reference:
            subject += " " + _("(Ihre Auftragsnummer %(ref)s)") % {"ref": message.lab_reference}
        quoted = "\n".join(f"> {line}" for line in (message.question or "").splitlines())
        body = _("Sehr geehrte Damen und Herren,\n\n%(text)s\n\nMit freundlichen Grüßen\n%(author)s\n%(branch)s") % {
            "text": message.text,
            "author": message.author,
            "branch": document.branch.name,
        }
        if quoted:
            body += "\n\n" + _("Ihre Rückfrage:") + "\n" + quoted
        headers = {
            "Message-ID": f"<{message.message_id}@otoorder>",
            "References": f"<{document.order_id}@otoorder>",
            "In-Reply-To": f"<{document.order_id}@otoorder>",
            "X-Otoorder-Order-Id": document.order_id,
            "X-Otoorder-Message-Id": str(message.message_id),
        }
        if message.in_reply_to:
            headers["X-Otoorder-In-Reply-To"] = message.in_reply_to
        return EmailMessage(subject=subject, body=body, to=[document.supplier.email], headers=headers, **self._sender(document))

    def send_message(self, message):
        """Staff's answer by e-mail to the supplier's order address."""
        email = self.build_message(message)
        self._deliver(email, what=_("die Nachricht"))
        return MessageResult(
            message=_("Antwort per E-Mail an %(to)s gesendet.") % {"to": ", ".join(email.to)},
            request_summary={"to": email.to, "subject": email.subject, "idempotency_key": str(message.message_id)},
            raw_response=_("SMTP: Nachricht angenommen."),
        )

    def check_connection(self):
        try:
            connection = get_connection(fail_silently=False, timeout=min(self.timeout, 10))
            if hasattr(connection, "open"):
                connection.open()
                connection.close()
        except (smtplib.SMTPException, OSError) as exc:
            raise TransientError(
                _("Der E-Mail-Server ist nicht erreichbar: %(error)s") % {"error": exc}
            ) from exc
        return _("Der E-Mail-Server ist erreichbar.")


def _megabytes(size):
    """A file size in MB with one decimal, German style ("12,3")."""
    return f"{(size or 0) / (1024 * 1024):.1f}".replace(".", ",")


def _method_label(method):
    return {"print": _("Druck/Post"), "fax": _("Fax"), "phone": _("Telefon")}.get(method, method)
