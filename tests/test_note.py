"""The PDF note (model/outputs/note.py, typeset by Typst from model/outputs/modeles/note.typ): its pages,
its texts (read back from the PDF), French and English, the charts embedded as vectors, a long title
shortened, texts never read as markup, the template and the text table as editable files."""

from __future__ import annotations

import re
import string
from pathlib import Path

import pytest
import typst
from pypdf import PdfReader

from conftest import copy_run_with_header
from model.outputs import graphiques as g
from model.outputs import note
from model.outputs.texte import ELLIPSE, TITRE_MAX
from test_graphiques import plain, saved_run, synthetic_sensitivity

MODEL = Path(__file__).resolve().parent.parent / "model"


def texts_of(pdf: Path) -> list[str]:
    return [plain(p.extract_text()) for p in PdfReader(pdf).pages]


@pytest.fixture(scope="module")
def det_run(tmp_path_factory):
    return g.load_run(saved_run(tmp_path_factory, "cog_2018_2022"))


@pytest.fixture(scope="module")
def one_chart(det_run, tmp_path_factory):
    """The SVG of one chart (saturation), drawn once."""
    d = tmp_path_factory.mktemp("chart")
    return g.save_figure(note.draw_chart("saturation", det_run, "fr"), d, "saturation", formats=("svg",))[0]


def test_french_note_with_a_chart_and_a_sensitivity_result(det_run, one_chart, tmp_path):
    pdf = tmp_path / "note.pdf"
    n = note.write_note(det_run, pdf, "fr", sens=synthetic_sensitivity(), charts={"saturation": one_chart})
    reader = PdfReader(pdf)
    assert n == len(reader.pages) and 2 <= n <= 4
    texts = texts_of(pdf)
    joined = " ".join(texts)
    for label in ("Note de simulation", "Scénario", "Hypothèses principales", "Simulation déterministe",
                  "Taux de remplacement des départs en retraite (CDI)", "Plafonds d'emplois (ETPMA)", "Transfert de l'ex-RSI",
                  "Chiffres clés", "Effectifs (ETPMA, moyenne des réplications)", "Budget de gestion 2022 (M€)",
                  "Lecture", "Incertitude et limites", "Run déterministe", "Principaux déterminants",
                  "Effet valeur basse", "organismes.cnam.taux_remplacement", "Graphiques",
                  "Saturation du plafond d'emplois", "Avertissements de validation", "Provenance"):
        assert label in joined, label
    assert "Key figures" not in joined and "Main assumptions" not in joined
    # the key figures start a page; the reading sentences are the module's
    assert texts[1].startswith(f"Note de simulation — {det_run.title}") and "Chiffres clés" in texts[1]
    kf = note.key_figures(det_run)
    for sentence in note.reading(det_run, kf, "fr"):
        assert plain(sentence) in joined
    assert f"page 1/{n}" in texts[0] and f"page {n}/{n}" in texts[-1]
    # French: the document's language (hyphenation patterns), narrow no-break spaces kept in the text
    assert reader.trailer["/Root"]["/Lang"] == "fr"
    raw = reader.pages[1].extract_text()
    assert g.format_number(kf["staff"][kf["rows"].index("total")]["etpma_z"], 0) in raw
    assert "\u202f%" in raw
    # the embedded fonts: matplotlib's DejaVu Sans (the charts' font), whatever the machine has
    fonts = {str(f.get_object()["/BaseFont"]) for p in reader.pages
             for f in p["/Resources"]["/Font"].values()}
    assert fonts and all("DejaVuSans" in f for f in fonts)
    # the chart is a vector drawing with its labels as text, not an image
    chart_page = next(p for p in reader.pages if "Saturation du plafond" in p.extract_text())
    assert "/XObject" not in chart_page["/Resources"] or not any(
        x.get_object().get("/Subtype") == "/Image" for x in chart_page["/Resources"]["/XObject"].values())
    meta = reader.metadata
    assert meta.title == f"Note de simulation — {det_run.title}" and meta.author == "cogsim"


def test_english_note(det_run, tmp_path):
    pdf = tmp_path / "note_en.pdf"
    n = note.write_note(det_run, pdf, "en", charts={})
    reader = PdfReader(pdf)
    assert n == len(reader.pages)
    joined = " ".join(texts_of(pdf))
    for label in ("Simulation note", "Main assumptions", "Deterministic simulation", "Key figures",
                  "Staff (ETPMA, mean of the replicates)", "Management budget 2022 (€m)", "Reading",
                  "Uncertainty and limits", "No sensitivity analysis", "Validation warnings", "page 1/"):
        assert label in joined, label
    for label in ("Hypothèses", "Chiffres clés", "Lecture", "Incertitude", "réplications", "Graphiques"):
        assert label not in joined, label
    assert reader.trailer["/Root"]["/Lang"] == "en"
    # English numbers: comma thousands, point decimals
    kf = note.key_figures(det_run)
    assert f"{kf['staff'][kf['rows'].index('total')]['etpma_z']:,.0f}" in joined


@pytest.fixture(scope="module")
def long_title_run(tmp_path_factory):
    src = saved_run(tmp_path_factory, "cog_2018_2022")
    title = ("Un titre très long " * 600)[:10_000]
    d = copy_run_with_header(src, tmp_path_factory.mktemp("long") / "a", title=title, author="A" * 10_000,
                             description="Une *description* #pagebreak() $x$ = titre\n" * 100)
    return g.load_run(d)


def test_a_long_title_is_shortened_and_the_header_stays_one_line(long_title_run, tmp_path):
    run = long_title_run
    assert len(run.title) == TITRE_MAX and run.title.endswith(ELLIPSE)
    pdf = tmp_path / "long.pdf"
    n = note.write_note(run, pdf, "fr", charts={})
    assert n < 10
    raw = [p.extract_text() for p in PdfReader(pdf).pages]
    assert all("Un titre très long " * (TITRE_MAX // 19 + 1) not in " ".join(r.split()) for r in raw)
    for page in raw:  # the running header: one line, shortened, on every page
        first = page.splitlines()[0]
        assert first.startswith("Note de simulation — Un titre très long") and first.endswith(ELLIPSE)
        assert len(first) <= note.HEADER_MAX + 25
    # the full (shortened) title is on page 1, over a few lines at most
    assert plain(run.title) in plain(raw[0])
    # a word longer than a line (160 A's of the author) breaks instead of running off the page
    assert "A" * 40 in raw[0] and "A" * (TITRE_MAX - 1) not in raw[0]
    assert max(len(line) for r in raw for line in r.splitlines()) < 125


def test_texts_are_printed_never_read_as_markup(long_title_run, tmp_path):
    pdf = tmp_path / "markup.pdf"
    note.write_note(long_title_run, pdf, "fr", charts={})
    joined = " ".join(texts_of(pdf))
    # the description's Typst markup is shown as typed: no bold, no page break, no equation, no heading
    assert "Une *description* #pagebreak() $x$ = titre" in joined


def test_the_template_is_the_layout(det_run, tmp_path):
    """An edited template is what the note shows; a broken one fails with Typst's message."""
    content = note.note_content(det_run, "fr")
    edited = tmp_path / "note.typ"
    edited.write_text(note.TEMPLATE.read_text(encoding="utf-8").replace(
        "= #L.key_figures", "= Chiffres clés du service"), encoding="utf-8")
    pdf = tmp_path / "edited.pdf"
    note.typeset(content, {}, pdf, template=edited)
    assert "Chiffres clés du service" in " ".join(texts_of(pdf))
    broken = tmp_path / "broken.typ"
    broken.write_text("#let data = json(bytes(sys.inputs.data))\n#data.nothing_here\n", encoding="utf-8")
    with pytest.raises(typst.TypstError, match="nothing_here"):
        note.typeset(content, {}, tmp_path / "broken.pdf", template=broken)
    assert not (tmp_path / "broken.pdf").exists()


def test_the_text_table_has_the_same_texts_in_both_languages():
    fr, en = note.TEXTS["fr"], note.TEXTS["en"]
    assert set(fr) == set(en)
    fields = lambda s: sorted({f for _, f, _, _ in string.Formatter().parse(s) if f})  # noqa: E731
    for key in fr:
        assert fields(fr[key]) == fields(en[key]), key
    # every key the note asks for exists
    used = set(re.findall(r'T\["(\w+)"\]', (MODEL / "outputs" / "note.py").read_text(encoding="utf-8")))
    assert used and used <= set(fr)


def test_no_private_pdf_api():
    """The note is typeset by Typst: no hand-made PDF objects, no pypdf at run time."""
    for path in MODEL.rglob("*.py"):
        source = path.read_text(encoding="utf-8")
        for private in ("_get_contents_as_bytes", "_add_object", "import pypdf", "from pypdf"):
            assert private not in source, (path, private)
