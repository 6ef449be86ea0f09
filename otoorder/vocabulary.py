"""The earmould vocabulary (DOMAIN.md §5–§6): the canonical values of an order item and of an
impression, the bottom of the import graph (suppliers, branches and every app may import it).

Each lab maps these to its own codes; the German labels are what staff know.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _


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


class Carrier(models.TextChoices):
    """Parcel carriers whose tracking numbers become links (``tracking_url``)."""

    DHL = "dhl", _("DHL")
    DEUTSCHE_POST = "deutsche_post", _("Deutsche Post")
    DPD = "dpd", _("DPD")
    GLS = "gls", _("GLS")
    UPS = "ups", _("UPS")
    HERMES = "hermes", _("Hermes")


class GermanState(models.TextChoices):
    """Bundesland of a branch: its public holidays count in ETAs (codes of the ``holidays`` library)."""

    BW = "BW", _("Baden-Württemberg")
    BY = "BY", _("Bayern")
    BE = "BE", _("Berlin")
    BB = "BB", _("Brandenburg")
    HB = "HB", _("Bremen")
    HH = "HH", _("Hamburg")
    HE = "HE", _("Hessen")
    MV = "MV", _("Mecklenburg-Vorpommern")
    NI = "NI", _("Niedersachsen")
    NW = "NW", _("Nordrhein-Westfalen")
    RP = "RP", _("Rheinland-Pfalz")
    SL = "SL", _("Saarland")
    SN = "SN", _("Sachsen")
    ST = "ST", _("Sachsen-Anhalt")
    SH = "SH", _("Schleswig-Holstein")
    TH = "TH", _("Thüringen")
