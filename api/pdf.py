"""A document as a PDF, laid out with ReportLab (pure Python wheels: no system library).

The PDF shows what the HTML shows (the same :class:`~subledger.api.documents.Document`), on
A4. Text is set in DejaVu Sans when the machine has it (Debian's ``fonts-dejavu-core``:
Latin, Greek, Cyrillic), else in Bitstream Vera, which ReportLab ships (Latin scripts); the
font is embedded, so the text can be read back. The output is byte-for-byte the same for the
same document (ReportLab's invariant mode: no creation time, no random id).
"""

from __future__ import annotations

import io
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path
from xml.sax.saxutils import escape

import reportlab
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import Flowable, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from .documents import TEXT_COLUMNS, Document

_SYSTEM_FONTS = Path("/usr/share/fonts/truetype/dejavu")
_BUNDLED_FONTS = Path(reportlab.__file__).resolve().parent / "fonts"
GREY = colors.HexColor("#555555")
WIDTH = 165 * mm
"""The text's width on A4 within the margins and the frame's padding."""


@lru_cache(maxsize=1)
def fonts() -> tuple[str, str]:
    """(regular, bold) font names, registered once."""
    if (_SYSTEM_FONTS / "DejaVuSans.ttf").exists():
        faces = ("DejaVuSans", _SYSTEM_FONTS / "DejaVuSans.ttf", _SYSTEM_FONTS / "DejaVuSans-Bold.ttf")
    else:
        faces = ("Vera", _BUNDLED_FONTS / "Vera.ttf", _BUNDLED_FONTS / "VeraBd.ttf")
    name, regular, bold = faces
    pdfmetrics.registerFont(TTFont(name, str(regular)))
    pdfmetrics.registerFont(TTFont(f"{name}-Bold", str(bold)))
    return name, f"{name}-Bold"


def _styles() -> dict[str, ParagraphStyle]:
    regular, bold = fonts()
    return {
        "title": ParagraphStyle("title", fontName=bold, fontSize=16, leading=20, spaceAfter=4),
        "text": ParagraphStyle("text", fontName=regular, fontSize=9.5, leading=12),
        "label": ParagraphStyle("label", fontName=regular, fontSize=8, leading=10, textColor=GREY),
        "bold": ParagraphStyle("bold", fontName=bold, fontSize=9.5, leading=12),
        "amount": ParagraphStyle("amount", fontName=regular, fontSize=9.5, leading=12, alignment=2),
        "amount-bold": ParagraphStyle("amount-bold", fontName=bold, fontSize=9.5, leading=12,
                                      alignment=2),
    }


def _p(text: str, style: ParagraphStyle) -> Paragraph:
    return Paragraph(escape(text), style)


def _header(doc: Document, s: dict[str, ParagraphStyle]) -> Table:
    seller = [_p(f"{doc.title} {doc.number}", s["title"]), *(_p(x, s["text"]) for x in doc.seller)]
    buyer = [_p("BILLED TO", s["label"]), *(_p(x, s["text"]) for x in doc.buyer)]
    table = Table([[seller, buyer]], colWidths=[WIDTH - 60 * mm, 60 * mm], hAlign="LEFT")
    table.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP"),
                               ("LEFTPADDING", (0, 0), (-1, -1), 0)]))
    return table


def _facts(doc: Document, s: dict[str, ParagraphStyle]) -> Table:
    table = Table([[_p(label, s["label"]), _p(value, s["text"])] for label, value in doc.facts],
                  colWidths=[35 * mm, WIDTH - 35 * mm], hAlign="LEFT")
    table.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP"),
                               ("LEFTPADDING", (0, 0), (-1, -1), 0)]))
    return table


def _lines(doc: Document, s: dict[str, ParagraphStyle]) -> Table:
    def row(cells: tuple[str, ...], text: str, amount: str) -> list[Paragraph]:
        return [_p(cell, s[text if i < TEXT_COLUMNS else amount]) for i, cell in enumerate(cells)]

    amounts = len(doc.columns) - TEXT_COLUMNS
    widths = [WIDTH - (48 + 28 * amounts) * mm, 48 * mm, *([28 * mm] * amounts)]
    table = Table([row(doc.columns, "bold", "amount-bold"),
                   *(row(line, "text", "amount") for line in doc.lines)],
                  colWidths=widths, repeatRows=1, hAlign="LEFT")
    table.setStyle(TableStyle([("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#f0f0f0")),
                               ("LINEBELOW", (0, 0), (-1, -1), 0.4, colors.HexColor("#cccccc")),
                               ("VALIGN", (0, 0), (-1, -1), "TOP")]))
    return table


def _totals(doc: Document, s: dict[str, ParagraphStyle]) -> Table:
    last = len(doc.totals) - 1
    rows = [[_p(label, s["bold" if i == last else "text"]),
             _p(value, s["amount-bold" if i == last else "amount"])]
            for i, (label, value) in enumerate(doc.totals)]
    table = Table(rows, colWidths=[40 * mm, 40 * mm], hAlign="RIGHT")
    table.setStyle(TableStyle([("LINEABOVE", (0, last), (-1, last), 0.6, colors.black)]))
    return table


def _stamp(text: str | None) -> Callable[[Canvas, object], None]:
    """Draws ``text`` across each page (VOID, UNCOLLECTIBLE), or nothing."""

    def draw(canvas: Canvas, _: object) -> None:
        if text:
            canvas.saveState()
            # as large as fits across the page's diagonal
            canvas.setFont(fonts()[1], min(72.0, 400 / (0.7 * len(text))))
            canvas.setFillColor(colors.Color(0.8, 0, 0, alpha=0.3))
            canvas.translate(A4[0] / 2, A4[1] / 2)
            canvas.rotate(30)
            canvas.drawCentredString(0, 0, text)
            canvas.restoreState()

    return draw


def render_pdf(doc: Document) -> bytes:
    s = _styles()
    out = io.BytesIO()
    pdf = SimpleDocTemplate(out, pagesize=A4, leftMargin=20 * mm, rightMargin=20 * mm,
                            topMargin=18 * mm, bottomMargin=18 * mm, invariant=True,
                            title=f"{doc.title} {doc.number}", author=doc.seller[0],
                            subject=doc.title, creator="subledger")
    story: list[Flowable] = [_header(doc, s), Spacer(1, 8 * mm), _facts(doc, s),
                             Spacer(1, 6 * mm), _lines(doc, s), Spacer(1, 4 * mm), _totals(doc, s)]
    story += [Spacer(1, 6 * mm), *(_p(note, s["text"]) for note in doc.notes)]
    pdf.build(story, onFirstPage=_stamp(doc.stamp), onLaterPages=_stamp(doc.stamp))
    return out.getvalue()
