"""Otofaktur's side of the Otoport file exchange, on the demo exchange folders.

Each tick the sandbox takes ``<uuid>.xml`` order files out of the outbox (moving them to
``<outbox>/taken/``, as the lab's software would take them away) and answers with
``<uuid>.status.xml`` files in the inbox in the documented ``otoport-status`` format:
``received`` with its order number at once, ``in_production`` and ``shipped`` (with a
tracking number) one and two steps later. otoorder's poll task reads them.
"""

import hashlib
import logging
import os
import re
import tempfile
import time

from lxml import etree

logger = logging.getLogger("otoorder.sandbox")

ORDER_FILE = re.compile(r"^([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})\.xml$")
TAKEN = "taken"
#: Files taken per tick and orders remembered: the sandbox stays small whatever arrives.
MAX_FILES_PER_TICK = 100
MAX_TRACKED = 10_000
#: Status after 0, 1, 2 steps.
STAGES = ("received", "in_production", "shipped")


def lab_number(order_id):
    return "OF-" + hashlib.sha256(order_id.encode()).hexdigest()[:8].upper()


def tracking_number(order_id):
    return "0034" + str(int(hashlib.sha256(order_id.encode()).hexdigest()[:14], 16)).zfill(16)[:16]


def status_xml(order_id, status):
    root = etree.Element("otoport-status", version="1")
    etree.SubElement(root, "order-id").text = order_id
    etree.SubElement(root, "lab-order-number").text = lab_number(order_id)
    etree.SubElement(root, "status").text = status
    if status == "shipped":
        etree.SubElement(root, "tracking-number").text = tracking_number(order_id)
        etree.SubElement(root, "message").text = "Versand mit DHL (Sandbox)"
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
    def __init__(self, config):
        self.config = config
        #: order uuid → (time taken, index of the last status written)
        self.orders = {}

    def tick(self, now=None):
        """Take new order files and write the status files that are due; returns files written."""
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
            match = ORDER_FILE.match(name)
            if not match or taken >= MAX_FILES_PER_TICK:
                continue
            order_id = match.group(1)
            path = os.path.join(outbox, name)
            if not self._is_order(path, order_id):
                logger.warning("sandbox otoport: %s is not an otoport order; left in place", name)
                continue
            os.makedirs(os.path.join(outbox, TAKEN), exist_ok=True)
            os.replace(path, os.path.join(outbox, TAKEN, name))
            taken += 1
            # A re-sent order is the same order: its progress goes on.
            if order_id not in self.orders and len(self.orders) < MAX_TRACKED:
                self.orders[order_id] = (now, -1)
                logger.info("sandbox otoport: took order %s", order_id)

    @staticmethod
    def _is_order(path, order_id):
        parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
        try:
            root = etree.parse(path, parser).getroot()
        except (OSError, etree.XMLSyntaxError):
            return False
        return root.tag == "otoport-order" and (root.findtext("order-id") or "").strip().lower() == order_id

    def _answer(self, inbox, now):
        written = 0
        step = self.config.timing("step_seconds")
        for order_id, (taken_at, done) in list(self.orders.items()):
            due = min(int((now - taken_at) // step) if step > 0 else len(STAGES) - 1, len(STAGES) - 1)
            if due <= done:
                continue
            _write_atomically(inbox, f"{order_id}.status.xml", status_xml(order_id, STAGES[due]))
            self.orders[order_id] = (taken_at, due)
            written += 1
            logger.info("sandbox otoport: order %s is %s", order_id, STAGES[due])
        return written
