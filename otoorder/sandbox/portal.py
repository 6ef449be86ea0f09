"""The audia and egger web portals of the sandbox: the hand-off page and its "Bestellen".

``GET /<name>-portal/?<hand-off>`` checks the signature and expiry (``verify_handoff`` of
``otoorder/backends/portal.py``, the documented recipe) and shows the order context; the
"Bestellen" button POSTs the hand-off back here, the sandbox sends the signed JSON callback
(order number, status ``confirmed``, the confirmed properties per ear) to the hand-off's
``callback_url`` and redirects the browser to its ``return_url``. Both URLs must be loopback.
"""

import html
import json
import logging
from urllib.parse import parse_qs

from otoorder.backends.portal import verify_handoff
from otoorder.backends.signing import SignatureError

from .answers import Answer, is_loopback, post_signed

logger = logging.getLogger("otoorder.sandbox")

PORTALS = {
    "audia": {"title": "audia Easy Order Web-Portal (Sandbox)", "prefix": "AUP"},
    "egger": {"title": "egger Bestellsystem (Sandbox)", "prefix": "EGP"},
}
SIDE_LABELS = {"right": "rechts", "left": "links"}
ITEM_LABELS = (
    ("product_family", "Produktfamilie"),
    ("style", "Bauform"),
    ("material", "Material"),
    ("colour", "Farbe"),
    ("vent_type", "Zusatzbohrung"),
    ("vent_diameter_mm", "Bohrung (mm)"),
    ("tube", "Schlauch"),
    ("receiver_power", "Hörerstärke"),
    ("receiver_length", "Hörerlänge"),
    ("quantity", "Menge"),
)
#: What the portal confirms per ear ("Bestelldaten"): echoed fields and one of its own.
CONFIRMED = ("style", "material", "colour", "vent_type", "vent_diameter_mm", "tube")


def handle(lab, name, method, subpath, query, body):

    secret = lab.config.section("portals").get(name, {}).get("shared_secret", "")
    if method == "GET" and not subpath:
        if not query:
            return Answer.html(_page(name, "<p>Dieses Portal wird aus otoorder über „Im Portal fortsetzen“ geöffnet.</p>"))
        params, error = _verified(secret, query)
        if error:
            return Answer.html(_page(name, f'<p class="error">{html.escape(error)}</p>'), 400)
        return Answer.html(_page(name, _order_view(name, params, query)))
    if method == "POST" and subpath == "bestellen":
        handoff = parse_qs(body.decode("utf-8", errors="replace")).get("handoff", [""])[0]
        params, error = _verified(secret, handoff)
        if error:
            return Answer.html(_page(name, f'<p class="error">{html.escape(error)}</p>'), 400)
        return order(lab, name, secret, params)
    return Answer.json({"message": "Unbekannte Adresse."}, 404)


def _verified(secret, query):
    try:
        return verify_handoff(secret, query), ""
    except SignatureError as exc:
        return {}, f"Die Übergabe wurde abgelehnt: {exc}"


def callback_body(name, params):
    """The JSON report the portal sends to otoorder for the order of ``params``."""
    sides = [side for side in params.get("sides", "").split(",") if side in SIDE_LABELS]
    properties = {
        side: {
            **{field: params[f"{side}_{field}"] for field in CONFIRMED if params.get(f"{side}_{field}")},
            "surface_finish": "lackiert",
        }
        for side in sides
    }
    number = f"{PORTALS[name]['prefix']}-{params['order_id'][:8].upper()}"
    return json.dumps(
        {
            "order_id": params["order_id"],
            "status": "confirmed",
            "order_number": number,
            "properties": properties,
            "message": "Im Sandbox-Portal bestellt.",
        }
    ).encode("utf-8")


def order(lab, name, secret, params):
    """Press "Bestellen": call otoorder back, then send the browser home."""
    callback_url, return_url = params.get("callback_url", ""), params.get("return_url", "")
    if not is_loopback(callback_url) or not is_loopback(return_url):
        return Answer.html(_page(name, '<p class="error">Die Sandbox ruft nur 127.0.0.1 auf.</p>'), 400)
    status = post_signed(callback_url, callback_body(name, params), secret, "application/json")
    logger.info("sandbox %s portal: order %s reported → HTTP %s", name, params.get("order_id"), status or "no connection")
    if not status or not 200 <= status < 300:
        message = f"otoorder hat die Rückmeldung nicht angenommen (HTTP {status or 'keine Verbindung'})."
        return Answer.html(_page(name, f'<p class="error">{html.escape(message)}</p>'), 502)
    return Answer(303, headers={"Location": return_url})


def _order_view(name, params, query):
    esc = html.escape
    rows = "".join(
        f"<tr><th>{label}</th><td>{esc(params.get(key, ''))}</td></tr>"
        for key, label in (
            ("order_number", "Bestellnummer"),
            ("branch", "Filiale"),
            ("account", "Kundennummer"),
            ("customer_reference", "Kundenreferenz"),
            ("order_type", "Auftragsart"),
            ("priority", "Priorität"),
            ("date_required", "benötigt bis"),
        )
    )
    ears = ""
    for side in params.get("sides", "").split(","):
        if side not in SIDE_LABELS:
            continue
        cells = "".join(
            f"<tr><th>{label}</th><td>{esc(params.get(f'{side}_{key}', ''))}</td></tr>"
            for key, label in ITEM_LABELS
            if params.get(f"{side}_{key}")
        )
        ears += f"<h2>Ohr {SIDE_LABELS[side]}</h2><table>{cells}</table>"
    return (
        f"<table>{rows}</table>{ears}"
        f'<form method="post" action="/{name}-portal/bestellen">'
        f'<input type="hidden" name="handoff" value="{esc(query)}">'
        '<button type="submit">Bestellen</button></form>'
    )


def _page(name, content):
    title = html.escape(PORTALS[name]["title"])
    return (
        '<!doctype html><html lang="de"><head><meta charset="utf-8">'
        f"<title>{title}</title><style>body{{font-family:sans-serif;margin:2rem;max-width:42rem}}"
        "th{text-align:left;padding-right:1rem}.error{color:#b00020}"
        "button{font-size:1.1rem;padding:.5rem 1.5rem;margin-top:1rem}</style></head>"
        f"<body><h1>{title}</h1>{content}</body></html>"
    )


def index_page(url):
    esc = html.escape
    labs = (
        ("Dreve SmartOrder", f"{url}/dreve/api/v1"),
        ("Hörluchs-Partner Bestell-System", f"{url}/hoerluchs/api"),
        ("audia Easy Order", f"{url}/audia/api"),
        ("egger ERP", f"{url}/egger/erp"),
        ("audia Easy Order Web-Portal", f"{url}/audia-portal/"),
        ("egger Bestellsystem (Portal)", f"{url}/egger-portal/"),
    )
    items = "".join(f"<li>{esc(label)}: <code>{esc(address)}</code></li>" for label, address in labs)
    return (
        '<!doctype html><html lang="de"><head><meta charset="utf-8"><title>otoorder Sandbox-Labor</title></head>'
        "<body style=\"font-family:sans-serif;margin:2rem\"><h1>otoorder Sandbox-Labor</h1>"
        f"<p>Spielt die Labore der Demo nach:</p><ul>{items}</ul>"
        "<p>Otofaktur Otoport arbeitet über die Austauschordner, der Kommandozeilenbefehl über "
        "<code>otoorder/sandbox/bin/demo-lab-order</code> (Stornierung: <code>demo-lab-cancel</code>).</p>"
        "<p>Stornierungen nehmen die Labore an, solange eine Bestellung noch nicht „in Fertigung“ ist "
        "(die erste Minute), danach lehnen sie ab: „bereits in Fertigung“. Beginnen die Hinweise an das "
        "Labor mit <code>Rückfrage:</code>, stellen Dreve und Otofaktur die Bestellung mit dieser Frage "
        "zurück, bis die Antwort eintrifft.</p></body></html>"
    )
