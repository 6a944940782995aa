"""Show a check's evidence to an analyst: nested figures as readable tables, escaped."""

from django import template
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe

register = template.Library()

# Spanish names for the evidence keys an analyst meets most often.
LABELS = {
    "sha256": "huella SHA-256",
    "size": "tamaño (bytes)",
    "duration_seconds": "duración (s)",
    "decoded_seconds": "reproducible (s)",
    "complete": "completo",
    "hazards": "elementos activos",
    "width": "ancho (px)",
    "height": "alto (px)",
    "pages": "páginas",
    "sharpness": "nitidez",
    "brightness": "brillo",
    "glare": "reflejos",
    "contrast": "contraste",
    "thresholds": "umbrales",
    "distances": "distancias",
    "tolerance": "tolerancia",
    "transcript": "transcripción",
    "missing": "cláusulas no escuchadas",
    "clauses": "cláusulas",
    "name_heard": "se oyó el nombre",
    "id_number_heard": "se oyó el número de identificación",
    "id_number_spoken": "número oído",
    "residence_heard": "se oyó la residencia",
    "fields": "campos",
    "checks": "comprobaciones",
    "matches": "coincidencias",
    "signatures": "firmas",
    "expected": "esperado",
    "declared": "declarado",
    "read": "leído",
    "source": "fuente",
    "similarity": "similitud",
    "score": "puntaje",
    "heard": "oído",
    "label": "descripción",
    "field": "campo",
    "case": "trámite",
    "ok": "correcto",
    "error": "error",
}
MAX_DEPTH = 4
MAX_ITEMS = 60


def _label(key) -> str:
    return LABELS.get(str(key), str(key).replace("_", " "))


def _scalar(value):
    if value is True:
        return "sí"
    if value is False:
        return "no"
    if value is None or value == "":
        return "—"
    if isinstance(value, float):
        return f"{value:.3f}".rstrip("0").rstrip(".") if abs(value) < 1e6 else f"{value:.0f}"
    return str(value)


def _render(value, depth: int):
    if depth > MAX_DEPTH:
        return format_html("{}", _scalar(str(value)[:200]))
    if isinstance(value, dict):
        if not value:
            return "—"
        rows = format_html_join(
            "",
            "<tr><th scope='row'>{}</th><td>{}</td></tr>",
            ((_label(k), _render(v, depth + 1)) for k, v in list(value.items())[:MAX_ITEMS]),
        )
        return format_html("<table class='usa-table usa-table--compact evidence'>{}</table>", rows)
    if isinstance(value, list):
        if not value:
            return "—"
        items = value[:MAX_ITEMS]
        if all(isinstance(i, dict) for i in items):
            keys = list(dict.fromkeys(k for i in items for k in i if k != "url"))
            head = format_html_join("", "<th scope='col'>{}</th>", ((_label(k),) for k in keys))
            body = format_html_join(
                "",
                "<tr>{}</tr>",
                (
                    (
                        format_html_join(
                            "",
                            "<td>{}</td>",
                            ((_cell(i, k, depth),) for k in keys),
                        ),
                    )
                    for i in items
                ),
            )
            return format_html(
                "<table class='usa-table usa-table--compact evidence'><thead><tr>{}</tr></thead>"
                "<tbody>{}</tbody></table>",
                head,
                body,
            )
        return format_html_join(", ", "{}", ((_render(i, depth + 1),) for i in items))
    return format_html("{}", _scalar(value))


def _cell(item: dict, key, depth: int):
    value = item.get(key)
    url = item.get("url")
    # Links to other cases point inside the back-office only.
    if key in ("case", "id_number") and isinstance(url, str) and url.startswith("/gestion/"):
        return format_html("<a href='{}'>{}</a>", url, _scalar(value))
    return _render(value, depth + 1)


@register.filter
def evidence_table(evidence) -> str:
    return mark_safe(_render(evidence, 0))  # noqa: S308 (every value went through format_html)


@register.filter
def without(evidence: dict, keys: str) -> dict:
    """The evidence without the keys shown elsewhere on the page (comma-separated)."""
    drop = set(keys.split(","))
    return {k: v for k, v in (evidence or {}).items() if k not in drop}
