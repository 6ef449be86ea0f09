"""The sandbox lab's HTTP server: every lab of ``docs/interfaces/`` on one loopback port.

=========================================  ==================================================
path                                       plays
=========================================  ==================================================
``/dreve/api/v1/orders`` (+ ``/<ref>``)    Dreve SmartOrder: JSON, Bearer key, status by GET
  ``…/orders/<ref>/cancellation|messages``   its cancellation and message endpoints
``/hoerluchs/api/auftraege``               Hörluchs-Partner: multipart, basic auth
  ``…/auftraege/<ref>/stornierung|nachrichten``
``/audia/api/orders``                      audia Easy Order: XML with Bestelldaten
  ``…/orders/<ref>/cancellation|messages``   (XML)
``/egger/erp``                             egger ERP: openTRANS ORDER → 202, signed pushes;
                                           ORDERCHANGE → ORDERRESPONSE (accepted/refused)
``/audia-portal/``, ``/egger-portal/``     the portals' hand-off page with "Bestellen"
``…/ping``                                 "Verbindung testen" of each (checks credentials)
=========================================  ==================================================

Idempotent like a real lab must be: a repeated ``Idempotency-Key`` gets the first answer.
Statuses advance with time (``timing.step_seconds``); every lab keeps its orders in one
``LabBook`` (``book.py``): cancellations are accepted until an order is in production and
refused afterwards ("bereits in Fertigung"); an order whose notes begin with ``Rückfrage:``
waits on hold with a question (Dreve's poll, Otoport's status file) until the answer arrives
at the lab's message endpoint or as a message file. Dreve decides the complaint behind a
remake (``book.decision_of``: free inside the window, charged outside) and reports it with
every status of that order. One background thread does the timed
work (egger's pushes, the Otoport folders) in a bounded loop until the server stops.
"""

import base64
import email.parser
import email.policy
import hashlib
import hmac
import json
import logging
import threading
import time
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import unquote, urlsplit

from lxml import etree

from . import egger, portal
from .answers import LOOPBACK_HOSTS, Answer, post_signed
from .book import LabBook, decision_of
from .config import SandboxConfig
from .exchange import OtoportLab

logger = logging.getLogger("otoorder.sandbox")

MAX_BODY = 8 * 1024 * 1024
#: Answers remembered per lab (idempotency) and pushes queued: bounded, whatever arrives.
MAX_REMEMBERED = 10_000
MAX_PUSHES = 1_000
PUSH_ATTEMPTS = 10
PUSH_RETRY_SECONDS = 5.0
TICK_SECONDS = 0.5
STAMP = "%Y%m%d%H%M%S"


def short_hash(value, length=4):
    return hashlib.sha256(value.encode("utf-8")).hexdigest()[:length].upper()


UNAUTHORIZED = Answer.json({"message": "Zugangsdaten falsch (Sandbox)."}, 401)


class SandboxLab:
    """The server, its labs' memory and the background thread; ``start()``/``stop()``."""

    def __init__(self, config=None, *, host="127.0.0.1", port=8700):
        if host not in LOOPBACK_HOSTS:
            raise ValueError("the sandbox lab listens on loopback only")
        self.config = config if isinstance(config, SandboxConfig) else SandboxConfig(data=config or {})
        self.book = LabBook()
        self.otoport = OtoportLab(self.config, self.book)
        self._answers = {}  # (lab, idempotency key) → Answer
        self._pushes = []  # dicts with "due", "attempt", "kind", ...
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self.server = ThreadingHTTPServer((host, port), _handler_class(self))
        self.server.daemon_threads = True
        self._threads = [
            threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.2}, daemon=True),
            threading.Thread(target=self._background, daemon=True),
        ]

    @property
    def port(self):
        return self.server.server_address[1]

    @property
    def url(self):
        return f"http://127.0.0.1:{self.port}"

    def start(self, *, background=True):
        """Serve; ``background=False`` leaves the timed work to explicit ``tick()`` calls (tests)."""
        for thread in self._threads[: 2 if background else 1]:
            thread.start()
        return self

    def stop(self):
        self._stopping.set()
        self.server.shutdown()
        self.server.server_close()
        for thread in self._threads:
            if thread.is_alive():
                thread.join(timeout=5)

    # --- routing ------------------------------------------------------------------------------

    def route(self, method, path, headers, body, query):
        if path in ("/", "/ping") and method == "GET":
            return self.index() if path == "/" else Answer.json({"status": "ok"})
        if path.startswith("/dreve/api/v1/"):
            return self.dreve(method, path[len("/dreve/api/v1/"):], headers, body)
        if path.startswith("/hoerluchs/api/"):
            return self.hoerluchs(method, path[len("/hoerluchs/api/"):], headers, body)
        if path.startswith("/audia/api/"):
            return self.audia(method, path[len("/audia/api/"):], headers, body)
        if path.rstrip("/") == "/egger/erp" or path.startswith("/egger/erp/"):
            return self.egger_erp(method, path[len("/egger/erp"):].strip("/"), headers, body)
        for name in portal.PORTALS:
            prefix = f"/{name}-portal/"
            if path == prefix or path == prefix.rstrip("/") or path.startswith(prefix):
                return portal.handle(self, name, method, path[len(prefix):], query, body)
        return Answer.json({"message": "Unbekannte Adresse der Sandbox."}, 404)

    def index(self):
        return Answer.html(portal.index_page(self.url))

    # --- authentication -----------------------------------------------------------------------

    def bearer_ok(self, headers, lab):
        expected = self.config.section(lab).get("api_key", "")
        return bool(expected) and hmac.compare_digest(headers.get("Authorization", ""), f"Bearer {expected}")

    def basic_ok(self, headers, lab):
        section = self.config.section(lab)
        if not section.get("username"):
            return False
        token = base64.b64encode(f"{section['username']}:{section.get('password', '')}".encode()).decode()
        return hmac.compare_digest(headers.get("Authorization", ""), f"Basic {token}")

    def remembered(self, lab, key, make):
        """The first answer to ``key`` at ``lab`` (a lab must never take an order twice)."""
        with self._lock:
            if (lab, key) in self._answers:
                return self._answers[(lab, key)], False
        answer = make()
        with self._lock:
            if (lab, key) in self._answers:
                return self._answers[(lab, key)], False
            if len(self._answers) < MAX_REMEMBERED:
                self._answers[(lab, key)] = answer
        return answer, True

    # --- Dreve SmartOrder -----------------------------------------------------------------------

    def dreve(self, method, path, headers, body):
        if not self.bearer_ok(headers, "dreve"):
            return UNAUTHORIZED
        if method == "GET" and path == "ping":
            return Answer.json({"status": "ok"})
        if method == "POST" and path == "orders":
            key = headers.get("Idempotency-Key", "")
            try:
                order = json.loads(body)
            except ValueError:
                return Answer.json({"message": "Kein JSON."}, 400)
            if not key or not isinstance(order, dict) or not order.get("items"):
                return Answer.json({"message": "Idempotency-Key oder Positionen fehlen."}, 422)
            number = f"DRV-{datetime.now(timezone.utc).strftime(STAMP)}-{short_hash(key)}"
            answer, new = self.remembered(
                "dreve", key, lambda: Answer.json({"order_number": number, "status": "received"}, 201)
            )
            if new:
                self.book.take(
                    "dreve",
                    key,
                    number,
                    str(order.get("notes") or ""),
                    time.time(),
                    _physical_sides(order.get("items")),
                    decision=decision_of(order.get("reason_code"), order.get("complaint")),
                )
                logger.info("sandbox dreve: order %s taken as %s", key, number)
            return answer
        parts = path.split("/")
        if method == "POST" and len(parts) == 3 and parts[0] == "orders":
            self.dreve_recover(unquote(parts[1]))
            if parts[2] == "cancellation":
                return self.cancellation("dreve", parts[1], headers, _json_answer({"status": "cancelled"}), _refusal_json("message"))
            if parts[2] == "messages":
                return self.lab_message("dreve", parts[1], headers, body, lambda ref: Answer.json({"message_id": ref}, 201))
        if method == "GET" and path.startswith("orders/") and len(parts) == 2:
            return self.dreve_status(parts[1])
        return Answer.json({"message": "Unbekannte Adresse."}, 404)

    # --- what every lab does after the order: cancellation and messages ------------------------

    def cancellation(self, lab, reference, headers, accepted, refused):
        """Accept while the order is not in production, refuse afterwards (idempotent by key)."""
        order = self.book.find(lab, unquote(reference))
        if order is None:
            return Answer.json({"message": "Auftrag unbekannt.", "meldung": "Auftrag unbekannt."}, 404)
        key = headers.get("Idempotency-Key", "") or f"{order.key}-storno"

        def decide():
            ok, reason = self.book.cancel(order, time.time(), self.config.timing("step_seconds"))
            logger.info("sandbox %s: cancellation %s of %s %s", lab, key, order.ref, "accepted" if ok else "refused")
            return accepted() if ok else refused(reason)

        return self.remembered(f"{lab}-cancel", key, decide)[0]

    def lab_message(self, lab, reference, headers, body, answer):
        """Staff's answer to the lab's question: resumes an order on hold (idempotent by key)."""
        order = self.book.find(lab, unquote(reference))
        if order is None:
            return Answer.json({"message": "Auftrag unbekannt.", "meldung": "Auftrag unbekannt."}, 404)
        key = headers.get("Idempotency-Key", "")
        if not key or not body:
            return Answer.json({"message": "Idempotency-Key oder Nachricht fehlt."}, 422)

        def take():
            resumed = self.book.answer(order, f"{len(body)} bytes", time.time())
            logger.info("sandbox %s: message %s for %s%s", lab, key, order.ref, " (order resumed)" if resumed else "")
            return answer(f"MSG-{short_hash(key, 8)}")

        return self.remembered(f"{lab}-message", key, take)[0]

    def dreve_recover(self, reference):
        """An order taken before the sandbox restarted: back into the book from its number."""
        if self.book.find("dreve", reference) is None:
            taken = _dreve_taken_at(reference)
            if taken is not None:
                self.book.take("dreve", reference, reference, "", taken)

    def dreve_status(self, reference):
        """The status from the lab's book (questions, cancellation), else from the time in the
        number: received → in_production → shipped."""
        order = self.book.find("dreve", unquote(reference))
        if order is not None:
            lab_status = order.status(time.time(), self.config.timing("step_seconds"))
            answer = {"order_number": order.ref, "status": lab_status}
            if lab_status == "on_hold":
                answer.update(question=order.question, question_id=order.question_id)
            if lab_status == "shipped":
                answer.update(tracking_number=_tracking(order.ref), carrier="DHL")
            received = order.impressions_received(time.time(), self.config.timing("step_seconds"))
            if received:
                answer["impressions_received"] = received
            if order.decision and lab_status != "cancelled":
                answer["complaint_decision"] = order.decision
            return Answer.json(answer)
        taken = _dreve_taken_at(reference)
        if taken is None:
            return Answer.json({"message": "Auftrag unbekannt."}, 404)
        step = self.config.timing("step_seconds")
        stage = 2 if step <= 0 else min(int((time.time() - taken) // step), 2)
        answer = {"order_number": reference, "status": ("received", "in_production", "shipped")[stage]}
        if stage == 2:
            answer.update(tracking_number=_tracking(reference), carrier="DHL")
        return Answer.json(answer)

    # --- Hörluchs-Partner -----------------------------------------------------------------------

    def hoerluchs(self, method, path, headers, body):
        if not self.basic_ok(headers, "hoerluchs"):
            return UNAUTHORIZED
        if method == "GET" and path == "ping":
            return Answer.json({"status": "ok"})
        parts = path.split("/")
        if method == "POST" and len(parts) == 3 and parts[0] == "auftraege":
            if parts[2] == "stornierung":
                return self.cancellation("hoerluchs", parts[1], headers, _json_answer({"status": "storniert"}), _refusal_json("meldung", "abgelehnt"))
            if parts[2] == "nachrichten":
                return self.lab_message("hoerluchs", parts[1], headers, body, lambda ref: Answer.json({"nachricht_id": ref}, 201))
        if method != "POST" or path != "auftraege":
            return Answer.json({"meldung": "Unbekannte Adresse."}, 404)
        key = headers.get("Idempotency-Key", "")
        parts = _multipart(headers.get("Content-Type", ""), body)
        try:
            order = json.loads(parts["order"][0][1])
        except (KeyError, IndexError, ValueError):
            return Answer.json({"meldung": "Teil „order“ mit dem Auftrag als JSON fehlt."}, 400)
        if not key or not isinstance(order, dict) or not order.get("positionen"):
            return Answer.json({"meldung": "Idempotency-Key oder Positionen fehlen."}, 422)
        number = f"HL-{short_hash(key, 6)}"
        answer, new = self.remembered(
            "hoerluchs", key, lambda: Answer.json({"auftragsnummer": number, "status": "angenommen"}, 201)
        )
        if new:
            self.book.take("hoerluchs", key, number, str(order.get("bemerkung") or ""), time.time())
            logger.info("sandbox hoerluchs: order %s taken as %s with %d scan(s)", key, number, len(parts.get("scan", [])))
        return answer

    # --- audia Easy Order -----------------------------------------------------------------------

    def audia(self, method, path, headers, body):
        if not self.basic_ok(headers, "audia"):
            return Answer.xml(_easy_error("E401", "Zugangsdaten falsch (Sandbox)."), 401)
        if method == "GET" and path == "ping":
            return Answer.xml(b"<Pong/>")
        parts = path.split("/")
        if method == "POST" and len(parts) == 3 and parts[0] == "orders":
            self.dreve_recover(unquote(parts[1]))
            if parts[2] == "cancellation":
                return self.cancellation(
                    "audia",
                    parts[1],
                    headers,
                    lambda: Answer.xml(_easy("EasyOrderCancellationResponse", Status="cancelled")),
                    lambda reason: Answer.xml(_easy("EasyOrderCancellationResponse", Status="refused", Message=reason)),
                )
            if parts[2] == "messages":
                return self.lab_message(
                    "audia", parts[1], headers, body, lambda ref: Answer.xml(_easy("EasyOrderMessageResponse", MessageId=ref))
                )
        if method != "POST" or path != "orders":
            return Answer.xml(_easy_error("E404", "Unbekannte Adresse."), 404)
        parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)
        try:
            root = etree.fromstring(body, parser)
        except etree.XMLSyntaxError:
            return Answer.xml(_easy_error("E100", "Kein lesbares XML."), 400)
        key = headers.get("Idempotency-Key", "") or (root.findtext("IdempotencyKey") or "").strip()
        if root.tag != "EasyOrder" or not key or root.find("Items/Item") is None:
            return Answer.xml(_easy_error("E101", "EasyOrder mit Positionen erwartet."), 422)
        number = f"AU-{short_hash(key, 6)}"
        answer, new = self.remembered("audia", key, lambda: Answer.xml(_easy_response(number, root), 200))
        if new:
            self.book.take("audia", key, number, (root.findtext("Notes") or "").strip(), time.time())
            logger.info("sandbox audia: order %s taken as %s", key, number)
        return answer

    # --- egger ERP ------------------------------------------------------------------------------

    def egger_erp(self, method, path, headers, body):
        if not self.basic_ok(headers, "egger"):
            return UNAUTHORIZED
        if method == "GET" and path == "ping":
            return Answer.json({"status": "ok"})
        if method != "POST" or path:
            return Answer.json({"message": "Unbekannte Adresse."}, 404)
        if egger.document_kind(body) == "ORDERCHANGE":
            return self.egger_change(headers, body)
        try:
            order = egger.read_order(body)
        except egger.NotAnOrder as exc:
            return Answer(400, str(exc).encode(), "text/plain; charset=utf-8")
        key = headers.get("Idempotency-Key", "") or order["order_uuid"] or order["order_id"]
        _answer, new = self.remembered("egger", key, lambda: Answer(202))
        if new:
            supplier_order_id = f"EGG-{short_hash(key, 6)}"
            # egger's questions would be answered by e-mail, which the sandbox does not read: it asks none.
            self.book.take("egger", order["order_id"], supplier_order_id, "", time.time())
            logger.info("sandbox egger: order %s taken as %s", key, supplier_order_id)
            self.schedule_push(
                "ORDERRESPONSE", order, supplier_order_id, delay=self.config.timing("egger_confirm_seconds")
            )
        return Answer(202)

    def egger_change(self, headers, body):
        """An ORDERCHANGE cancelling an order: egger's ORDERRESPONSE at once (accepted/refused)."""
        try:
            change = egger.read_orderchange(body)
        except egger.NotAnOrder as exc:
            return Answer(400, str(exc).encode(), "text/plain; charset=utf-8")
        if not change["cancellation"]:
            return Answer(422, "Nur Stornierungen werden angenommen (Sandbox).".encode(), "text/plain; charset=utf-8")
        order = self.book.find("egger", change["order_id"])
        if order is None:
            return Answer(404, "ORDER_ID unbekannt (Sandbox).".encode(), "text/plain; charset=utf-8")
        key = headers.get("Idempotency-Key", "") or change["key"] or f"{change['order_id']}-{change['sequence']}"

        def decide():
            ok, reason = self.book.cancel(order, time.time(), self.config.timing("step_seconds"))
            logger.info("sandbox egger: cancellation %s of %s %s", key, order.ref, "accepted" if ok else "refused")
            return Answer.xml(egger.cancellation_answer(change, order.ref, accepted=ok, reason=reason))

        return self.remembered("egger-cancel", key, decide)[0]

    # --- pushes to otoorder ------------------------------------------------------------------

    def schedule_push(self, kind, order, supplier_order_id, *, delay):
        with self._lock:
            if len(self._pushes) >= MAX_PUSHES:
                logger.warning("sandbox egger: push queue full; %s of %s dropped", kind, supplier_order_id)
                return
            self._pushes.append(
                {"due": time.time() + delay, "attempt": 0, "kind": kind, "order": order, "ref": supplier_order_id}
            )

    def _due_pushes(self, now):
        with self._lock:
            due = [push for push in self._pushes if push["due"] <= now]
            self._pushes = [push for push in self._pushes if push["due"] > now]
        return due

    def run_pushes(self, now=None):
        """Send the egger pushes that are due; returns how many otoorder accepted."""
        accepted = 0
        for push in self._due_pushes(time.time() if now is None else now):
            order = self.book.find("egger", push["order"]["order_id"])
            if order is not None and order.cancelled:
                continue  # a cancelled order is neither confirmed nor shipped
            outcome = self.push(push)
            if outcome == "accepted":
                accepted += 1
                if push["kind"] == "ORDERRESPONSE":
                    self.schedule_push(
                        "DISPATCHNOTIFICATION", push["order"], push["ref"], delay=2 * self.config.timing("step_seconds")
                    )
            elif outcome == "retry" and push["attempt"] < PUSH_ATTEMPTS:
                with self._lock:
                    self._pushes.append({**push, "due": time.time() + PUSH_RETRY_SECONDS})
        return accepted

    def push(self, push):
        section = self.config.section("egger")
        base = self.config.get().get("otoorder_url", "")
        if not section.get("definition_id") or not section.get("shared_secret") or not base:
            logger.warning("sandbox egger: no callback configured; %s of %s not sent", push["kind"], push["ref"])
            return "dropped"
        if push["kind"] == "ORDERRESPONSE":
            body = egger.orderresponse(push["order"], push["ref"])
        else:
            body = egger.dispatchnotification(push["order"], push["ref"], _tracking(push["ref"]))
        url = f"{base.rstrip('/')}/api/v1/callbacks/{section['definition_id']}/"
        push["attempt"] += 1
        status = post_signed(url, body, section["shared_secret"], "application/xml; charset=utf-8")
        logger.info("sandbox egger: %s of %s → HTTP %s", push["kind"], push["ref"], status or "no connection")
        if status and 200 <= status < 300:
            return "accepted"
        return "retry" if status is None or status >= 500 or status == 429 else "dropped"

    # --- the background thread ----------------------------------------------------------------

    def tick(self, now=None):
        self.run_pushes(now)
        try:
            self.otoport.tick(now)
        except OSError as exc:
            logger.warning("sandbox otoport: %s", exc.strerror or exc)

    def _background(self):
        while not self._stopping.wait(TICK_SECONDS):
            try:
                self.tick()
            except Exception:  # noqa: BLE001 - the sandbox keeps serving whatever one tick did
                logger.exception("sandbox: background tick failed")


def _dreve_taken_at(reference):
    """When Dreve took the order, from the time stamp in its number ``DRV-<stamp>-<hash>``."""
    try:
        _prefix, stamp, _suffix = reference.split("-")
        return datetime.strptime(stamp, STAMP).replace(tzinfo=timezone.utc).timestamp()
    except ValueError:
        return None


def _physical_sides(items):
    """The ears of an order's items whose impression comes by post (Dreve's order JSON)."""
    if not isinstance(items, list):
        return ()
    return tuple(
        item["side"]
        for item in items[:2]
        if isinstance(item, dict) and item.get("impression_kind") == "physical" and item.get("side") in ("right", "left")
    )


def _tracking(reference):
    return f"00340434{int(short_hash(reference, 10), 16) % 10**12:012d}"


def _json_answer(data):
    return lambda: Answer.json(data)


def _refusal_json(message_key, word="refused"):
    return lambda reason: Answer.json({"status": word, message_key: reason})


def _easy(tag, **children):
    root = etree.Element(tag)
    for name, value in children.items():
        etree.SubElement(root, name).text = value
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


def _multipart(content_type, body):
    head = f"Content-Type: {content_type}\r\nMIME-Version: 1.0\r\n\r\n".encode()
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(head + body)
    parts = {}
    if message.is_multipart():
        for part in message.iter_parts():
            name = part.get_param("name", header="content-disposition")
            parts.setdefault(name, []).append((part.get_filename(), part.get_payload(decode=True)))
    return parts


def _easy_error(code, message):
    root = etree.Element("EasyOrderError")
    etree.SubElement(root, "Code").text = code
    etree.SubElement(root, "Message").text = message
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


#: What audia confirms per ear: our item elements it echoes, and one property of its own.
ECHOED = ("Style", "Material", "Colour", "VentType", "VentDiameterMm", "Tube", "ReceiverPower", "ReceiverLength")


def _easy_response(number, order):
    root = etree.Element("EasyOrderResponse", version="1")
    etree.SubElement(root, "OrderNumber").text = number
    etree.SubElement(root, "Status").text = "accepted"
    data = etree.SubElement(root, "Bestelldaten")
    for item in order.iterfind("Items/Item"):
        ear = etree.SubElement(data, "Ear", side=item.get("side", ""))
        for tag in ECHOED:
            value = (item.findtext(tag) or "").strip()
            if value:
                etree.SubElement(ear, tag).text = value
        etree.SubElement(ear, "SurfaceFinish").text = "lackiert"
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)


def _handler_class(lab):
    class Handler(BaseHTTPRequestHandler):
        server_version = "otoorder-sandbox"

        def _serve(self):
            length = int(self.headers.get("Content-Length") or 0)
            if length > MAX_BODY:
                self._send(Answer.json({"message": "Zu groß."}, 413))
                return
            body = self.rfile.read(length) if length else b""
            parts = urlsplit(self.path)
            headers = {name.title(): value for name, value in self.headers.items()}
            headers["Idempotency-Key"] = self.headers.get("Idempotency-Key", "")
            headers["Authorization"] = self.headers.get("Authorization", "")
            try:
                answer = lab.route(self.command, parts.path, headers, body, parts.query)
            except Exception:  # noqa: BLE001 - a sandbox bug answers 500 like a real lab would
                logger.exception("sandbox: %s %s failed", self.command, parts.path)
                answer = Answer.json({"message": "Interner Fehler der Sandbox."}, 500)
            self._send(answer)

        do_GET = do_POST = _serve

        def _send(self, answer):
            self.send_response(answer.status)
            if answer.content_type:
                self.send_header("Content-Type", answer.content_type)
            for name, value in answer.headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(answer.body)))
            self.end_headers()
            self.wfile.write(answer.body)

        def log_message(self, format, *args):
            """Quiet: requests are logged by the labs above, with ids only."""

        def log_request(self, code="-", size="-"):
            # The path only: a portal hand-off's query carries the order context.
            logger.info("sandbox: %s %s → %s", self.command, urlsplit(self.path).path, code)

    return Handler
