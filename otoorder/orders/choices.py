"""Canonical values of an earmould order (DOMAIN.md §5–§6).

Each lab maps these to its own codes; the German labels are what staff know.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _


class OrderStatus(models.TextChoices):
    DRAFT = "draft", _("Entwurf")
    QUEUED = "queued", _("Erstellt – wartet auf Versand")
    SENDING = "sending", _("wird gesendet")
    AWAITING_MANUAL = "awaiting_manual", _("wartet auf Bestellung per Druck/Fax/Telefon")
    AWAITING_PORTAL = "awaiting_portal", _("wartet auf Abschluss im Portal")
    ORDERED = "ordered", _("Bestellt")
    CONFIRMED = "confirmed", _("vom Labor bestätigt")
    IN_PRODUCTION = "in_production", _("in Fertigung")
    SHIPPED = "shipped", _("versandt")
    RECEIVED = "received", _("Wareneingang")
    FITTED = "fitted", _("angepasst")
    CLOSED = "closed", _("Abgeschlossen")
    FAILED = "failed", _("fehlgeschlagen")
    REJECTED_BY_LAB = "rejected_by_lab", _("vom Labor abgelehnt")
    CANCELLED = "cancelled", _("storniert")


S = OrderStatus
#: The lifecycle as data: which status may follow which. "Abschließen" (closed) is possible
#: without a goods receipt, with a reason, once the order has left the branch or failed.
TRANSITIONS = {
    S.DRAFT: {S.QUEUED, S.CANCELLED},
    S.QUEUED: {S.SENDING, S.CANCELLED, S.FAILED},
    S.SENDING: {S.QUEUED, S.ORDERED, S.CONFIRMED, S.AWAITING_MANUAL, S.AWAITING_PORTAL, S.FAILED, S.REJECTED_BY_LAB},
    S.AWAITING_MANUAL: {S.ORDERED, S.CANCELLED},
    S.AWAITING_PORTAL: {S.ORDERED, S.CONFIRMED, S.IN_PRODUCTION, S.SHIPPED, S.REJECTED_BY_LAB, S.CANCELLED, S.FAILED},
    S.ORDERED: {S.CONFIRMED, S.IN_PRODUCTION, S.SHIPPED, S.REJECTED_BY_LAB, S.RECEIVED, S.CANCELLED, S.CLOSED},
    S.CONFIRMED: {S.IN_PRODUCTION, S.SHIPPED, S.REJECTED_BY_LAB, S.RECEIVED, S.CANCELLED, S.CLOSED},
    S.IN_PRODUCTION: {S.SHIPPED, S.RECEIVED, S.CLOSED},
    S.SHIPPED: {S.RECEIVED, S.CLOSED},
    S.RECEIVED: {S.FITTED, S.CLOSED},
    S.FITTED: {S.CLOSED},
    S.FAILED: {S.QUEUED, S.CANCELLED, S.CLOSED},
    S.REJECTED_BY_LAB: {S.QUEUED, S.CANCELLED, S.CLOSED},
    S.CLOSED: set(),
    S.CANCELLED: set(),
}
#: Statuses in which files may still be attached: the lab receives them with the order.
ATTACHABLE = {S.DRAFT, S.QUEUED, S.FAILED, S.REJECTED_BY_LAB}
#: Statuses in which the order page refreshes itself.
IN_FLIGHT = {S.QUEUED, S.SENDING, S.AWAITING_PORTAL}


class OrderType(models.TextChoices):
    NEW = "new", _("Neuanfertigung")
    REMAKE = "remake", _("Reklamation/Nachfertigung")
    MODIFICATION = "modification", _("Änderung")
    REORDER_FROM_SCAN = "reorder_from_scan", _("Nachbestellung aus gespeichertem Scan")
    REPAIR = "repair", _("Reparatur")


class Priority(models.TextChoices):
    STANDARD = "standard", _("Standard")
    EXPRESS = "express", _("Express")


class Side(models.TextChoices):
    LEFT = "left", _("links")
    RIGHT = "right", _("rechts")


class ProductFamily(models.TextChoices):
    BTE = "bte", _("HdO-Otoplastik mit Schlauch")
    RIC = "ric", _("Ex-Hörer-Otoplastik (RIC)")
    THIN_TUBE = "thin_tube", _("Dünnschlauch-Otoplastik")
    HEARING_PROTECTION = "hearing_protection", _("Gehörschutz")
    SWIM_PLUG = "swim_plug", _("Schwimmschutz")
    IN_EAR_MONITOR = "in_ear_monitor", _("In-Ear-Monitor")


class Style(models.TextChoices):
    FULL_SHELL = "full_shell", _("Lübecker Grundform (Vollschale)")
    SHELL = "shell", _("Schale")
    HALF_SHELL = "half_shell", _("Halbschale")
    SKELETON = "skeleton", _("Gerüst")
    RING = "ring", _("Ring")
    CLAW = "claw", _("Kralle")
    CANAL_LOCK = "canal_lock", _("Spange")
    CANAL = "canal", _("Stöpsel")
    CIC = "cic", _("CIC")


class Material(models.TextChoices):
    ACRYLIC = "acrylic", _("Acryl hart")
    PHOTOPOLYMER = "photopolymer", _("Fotopolymer (3D-Druck)")
    SILICONE = "silicone", _("Silikon weich")
    THERMOTEC = "thermotec", _("Thermo-Tec")
    TITANIUM = "titanium", _("Titan")


class VentType(models.TextChoices):
    NONE = "none", _("keine")
    PARALLEL = "parallel", _("parallel")
    Y = "y", _("Y-Bohrung")
    GROOVE = "groove", _("Rille")
    IROS = "iros", _("IROS")


class Tube(models.TextChoices):
    STANDARD = "standard_2_1", _("Standard 2,1 mm")
    THIN = "thin_0_9", _("Dünnschlauch 0,9 mm")
    THICK = "thick_3_0", _("verstärkt 3,0 mm")


class ReceiverPower(models.TextChoices):
    S = "S", _("S")
    M = "M", _("M")
    P = "P", _("P")
    UP = "UP", _("UP")


RECEIVER_LENGTHS = [(n, str(n)) for n in range(4)]


class SurfaceFinish(models.TextChoices):
    GLOSSY = "glossy", _("glänzend")
    MATTE = "matte", _("matt")
    LACQUERED = "lacquered", _("lackiert")


class AcousticModification(models.TextChoices):
    NONE = "none", _("keine")
    LIBBY_3 = "libby_3", _("Libby-Horn 3 mm")
    LIBBY_4 = "libby_4", _("Libby-Horn 4 mm")
    BAKKE = "bakke", _("Bakke-Horn")
    STEP_BORE = "step_bore", _("Stufenbohrung")


class CanalLength(models.TextChoices):
    SHORT = "short", _("kurz")
    MEDIUM = "medium", _("mittel")
    LONG = "long", _("lang")


class ProtectionFilter(models.TextChoices):
    NONE = "none", _("ohne Filter")
    SLEEP = "sleep", _("Schlafschutz")
    MUSIC_15 = "music_15", _("Musikerfilter 15 dB")
    MUSIC_25 = "music_25", _("Musikerfilter 25 dB")
    NOISE_27 = "noise_27", _("Lärmschutzfilter 27 dB")
    SHOOTING = "shooting", _("Schießschutz")


class ScanFormat(models.TextChoices):
    STL_BINARY = "stl_binary", _("STL (binär)")
    STL_ASCII = "stl_ascii", _("STL (ASCII)")
    PLY = "ply", _("PLY")


class ImpressionKind(models.TextChoices):
    PHYSICAL = "physical", _("Abdruck (Silikon, per Post)")
    SCAN = "scan", _("3D-Scan")


class EventSource(models.TextChoices):
    STAFF = "staff", _("Mitarbeiter")
    WORKER = "worker", _("Versand")
    LAB = "lab", _("Labor")
    SYSTEM = "system", _("System")


class DispatchState(models.TextChoices):
    QUEUED = "queued", _("wartet")
    SENDING = "sending", _("wird gesendet")
    DONE = "done", _("erledigt")
    FAILED = "failed", _("fehlgeschlagen")
    CANCELLED = "cancelled", _("abgebrochen")


class AttemptOutcome(models.TextChoices):
    ORDERED = "ordered", _("bestellt")
    CONFIRMED = "confirmed", _("bestätigt")
    AWAITING_MANUAL = "awaiting_manual", _("Bestellformular bereit")
    AWAITING_PORTAL = "awaiting_portal", _("Portal-Übergabe")
    REJECTED = "rejected", _("abgelehnt")
    TRANSIENT_ERROR = "transient_error", _("vorübergehender Fehler")
    #: No answer after the lab may have taken the order: repeated later under the same key.
    AMBIGUOUS = "ambiguous", _("möglicherweise bereits zugestellt")
    PERMANENT_ERROR = "permanent_error", _("dauerhafter Fehler")
