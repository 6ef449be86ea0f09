"""Otofaktur's side of the Otoport file exchange, on the demo exchange folders.

Each tick the sandbox takes ``<uuid>.xml`` order files out of the outbox (moving them to
``<outbox>/taken/``, as the lab's software would take them away) and answers with
``<uuid>.status.xml`` files in the inbox in the documented ``otoport-status`` format:
``received`` with its order number at once, ``in_production`` and ``shipped`` (with a
tracking number) one and two steps later. otoorder's poll task reads them.

After the order, the lab's book (``book.py``) decides: ``<key>.cancel.xml`` is answered with
``cancelled`` while the order is not yet in production, else with
``<cancellation>refused</cancellation>`` and "bereits in Fertigung"; an order whose notes begin
with ``Rückfrage:`` gets an ``on_hold`` status file with the question and goes on once a
``<message id>.message.xml`` for it arrives.
"""

import hashlib
import logging
import os
import re
import tempfile
import time

from lxml import etree

logger = logging.getLogger("otoorder.sandbox")

_UUID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
ORDER_FILE = re.compile(rf"^({_UUID})\.xml$")
CANCEL_FILE = re.compile(rf"^({_UUID})-storno-[0-9]+\.cancel\.xml$")
MESSAGE_FILE = re.compile(rf"^{_UUID}\.message\.xml$")
LAB = "otoport"
TAKEN = "taken"
#: Files taken per tick and orders remembered: the sandbox stays small whatever arrives.
MAX_FILES_PER_TICK = 100
MAX_TRACKED = 10_000


def lab_number(order_id):
    return "OF-" + hashlib.sha256(order_id.encode()).hexdigest()[:8].upper()


def tracking_number(order_id):
    return "0034" + str(int(hashlib.sha256(order_id.encode()).hexdigest()[:14], 16)).zfill(16)[:16]


def status_xml(order_id, status, *, question="", question_id="", cancellation="", reason=""):
    root = etree.Element("otoport-status", version="1")
    etree.SubElement(root, "order-id").text = order_id
    etree.SubElement(root, "lab-order-number").text = lab_number(order_id)
    etree.SubElement(root, "status").text = status
    if status == "shipped":
        etree.SubElement(root, "tracking-number").text = tracking_number(order_id)
        etree.SubElement(root, "message").text = "Versand mit DHL (Sandbox)"
    if status == "on_hold":
        etree.SubElement(root, "question").text = question
        etree.SubElement(root, "question-id").text = question_id
    if cancellation:
        etree.SubElement(root, "cancellation").text = cancellation
        if reason:
            etree.SubElement(root, "cancellation-message").text = reason
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)


def _write_atomically(folder, name, data):
    descriptor, temporary = tempfile.mkstemp(dir=folder, prefix=f".{name}.", suffix=".part")
    try:
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(data)
        os.replace(temporary, os.path.join(folder, name))
    except BaseException:
        if os.path.exists(temporary):
            os.unlink(temporary)
        raise


class OtoportLab:
    def __init__(self, config, book=None):
        from .book import LabBook

        self.config = config
        self.book = book if book is not None else LabBook()
        #: order uuid → the last status word written for it
        self.written = {}
        #: status files due besides the timeline: cancellation answers
        self._answers = []

    def tick(self, now=None):
        """Take new files and write the status files that are due; returns files written."""
        section = self.config.section("otoport")
        outbox, inbox = section.get("outbox"), section.get("inbox")
        if not outbox or not inbox:
            return 0
        now = time.time() if now is None else now
        os.makedirs(inbox, exist_ok=True)
        self._take(outbox, now)
        return self._answer(inbox, now)

    def _take(self, outbox, now):
        try:
            names = sorted(os.listdir(outbox))[: MAX_FILES_PER_TICK * 4]
        except FileNotFoundError:
            return
        taken = 0
        for name in names:
            if taken >= MAX_FILES_PER_TICK:
                break
            path = os.path.join(outbox, name)
            if ORDER_FILE.match(name):
                handled = self._take_order(path, ORDER_FILE.match(name).group(1), now)
            elif CANCEL_FILE.match(name):
                handled = self._take_cancellation(path, CANCEL_FILE.match(name).group(1), now)
            elif MESSAGE_FILE.match(name):
                handled = self._take_message(path, now)
            else:
                continue
            if not handled:
                logger.warning("sandbox otoport: %s is not a file of the documented formats; left in place", name)
                continue
            os.makedirs(os.path.join(outbox, TAKEN), exist_ok=True)
            os.replace(path, os.path.join(outbox, TAKEN, name))
            taken += 1

    def _take_order(self, path, order_id, now):
        root = _read(path, "otoport-order")
        if root is None or (root.findtext("order-id") or "").strip().lower() != order_id:
            return False
        # A re-sent order is the same order: its progress goes on.
        if self.book.find(LAB, order_id) is None and len(self.written) < MAX_TRACKED:
            self.book.take(LAB, order_id, lab_number(order_id), (root.findtext("notes") or "").strip(), now)
            self.written[order_id] = ""
            logger.info("sandbox otoport: took order %s", order_id)
        return True

    def _take_cancellation(self, path, order_id, now):
        root = _read(path, "otoport-cancellation")
        if root is None or (root.findtext("order-id") or "").strip().lower() != order_id:
            return False
        order = self.book.find(LAB, order_id)
        if order is None:
            logger.warning("sandbox otoport: cancellation for unknown order %s", order_id)
            return True
        accepted, reason = self.book.cancel(order, now, self.config.timing("step_seconds"))
        if not accepted:
            self._answers.append((order_id, reason))
        logger.info("sandbox otoport: cancellation of %s %s", order_id, "accepted" if accepted else "refused")
        return True

    def _take_message(self, path, now):
        root = _read(path, "otoport-message")
        if root is None:
            return False
        order = self.book.find(LAB, (root.findtext("order-id") or "").strip().lower())
        if order is not None and self.book.answer(order, root.findtext("text") or "", now):
            logger.info("sandbox otoport: answer for %s arrived; order resumed", order.key)
        return True

    def _answer(self, inbox, now):
        written = 0
        step = self.config.timing("step_seconds")
        for order_id, reason in self._answers:
            order = self.book.find(LAB, order_id)
            status = order.status(now, step)
            _write_atomically(inbox, f"{order_id}.status.xml", status_xml(order_id, status, cancellation="refused", reason=reason))
            self.written[order_id] = status
            written += 1
        self._answers = []
        for order_id, done in list(self.written.items()):
            order = self.book.find(LAB, order_id)
            status = order.status(now, step)
            if status == done:
                continue
            _write_atomically(
                inbox,
                f"{order_id}.status.xml",
                status_xml(order_id, status, question=order.question, question_id=order.question_id),
            )
            self.written[order_id] = status
            written += 1
            logger.info("sandbox otoport: order %s is %s", order_id, status)
        return written


def _read(path, tag):
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
    try:
        root = etree.parse(path, parser).getroot()
    except (OSError, etree.XMLSyntaxError):
        return None
    return root if root.tag == tag else None
