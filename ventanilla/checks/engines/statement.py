"""Does the video say the statement the procedure prescribes, for this applicant?

The seed (IESS procedure, step 6) prescribes one statement, filled in with the
applicant's names, ID number and place of residence. Here it is split into its
clauses; each clause is looked for in the transcript by fuzzy matching, because a
transcript of real (or synthetic) speech loses accents, splits and merges words
("dichotrámite", "al yes" for "al IESS") and mishears a letter here and there.

Matching works on a plain form of both texts: accents and punctuation removed,
lower case, and a rough Spanish phonetic spelling ("quispe" and "kispe", "veraz"
and "veras" become the same). The ID number is compared digit by digit however it
was spoken: digit by digit, in groups, as one big number (losing its leading
zero) or written in digits by the recogniser.

Plain Python: no Django, no database. The analyst decides (LOPDP art. 20).
"""

import re
import unicodedata
from dataclasses import asdict, dataclass

from rapidfuzz import fuzz
from rapidfuzz.distance import Levenshtein
from text_to_num import alpha2digit

from . import FAIL, PASS, WARN, Finding

# Calibrated on espeak-ng statements transcribed by Whisper base without a prompt
# (about 60 readings of 4 synthetic people; figures in the comments).
#
# A clause is heard when its best match in the transcript scores at least
# CLAUSE_HEARD; between CLAUSE_DOUBTFUL and CLAUSE_HEARD it is doubtful (warn);
# below, missing (fail). Clauses spoken scored 0.79-1.00, clauses left out 0.46-0.53.
CLAUSE_HEARD = 0.80
CLAUSE_DOUBTFUL = 0.65
# Given names and surnames (the weaker of the two counts): the applicant's own
# reading scored 0.52-1.00 (espeak-ng names are often misheard), another
# person's reading 0.39-0.63. Pass needs NAME_HEARD; "another name" is said
# below NAME_DIFFERENT only; in between, the analyst is asked to listen.
NAME_HEARD = 0.80
NAME_DIFFERENT = 0.50
# ID number: Levenshtein similarity of the digits heard (1 - edits / length):
# 0.8 allows two misheard digits of ten. The applicant's readings scored 0.7-1.0,
# another person's number 0.1-0.6.
ID_HEARD = 0.80
ID_DIFFERENT = 0.60
ID_MIN_SPOKEN = 6  # fewer characters than this is "no number heard", not "another number"
# Each part of the place of residence (country, region, city): heard parts
# scored 0.75-1.00 ("que es" for Queens is the 0.75), parts of an omitted clause
# 0.43-0.73. The country and the region or the city must be heard.
PLACE_HEARD = 0.80
# Fewer words than this is no statement at all.
MIN_WORDS = 4

PLACE_PARTS = ("país", "estado o provincia", "ciudad")


@dataclass(frozen=True)
class Clause:
    key: str
    label: str  # Spanish, for the analyst
    expected: str  # the seed's words, filled in


# The seed's statement, clause by clause; joined with spaces it is the seed's text.
_TEMPLATE = (
    ("name", "identificación (nombre)", "Yo, {name},"),
    (
        "id_number",
        "número de cédula",
        "portador de la cédula de identidad número {id_number},",
    ),
    (
        "authorization",
        "autorización al IESS",
        "autorizo al Instituto Ecuatoriano de Seguridad Social a actualizar mis datos de contacto",
    ),
    (
        "truthfulness",
        "declaración de veracidad",
        "y declaro que la información proporcionada es veraz,",
    ),
    (
        "release",
        "deslinde de responsabilidad",
        "por lo que, deslindo así al IESS de cualquier responsabilidad por las acciones que se "
        "ejecuten.",
    ),
    ("residence", "lugar de residencia", "Actualmente resido en {place},"),
    (
        "impossibility",
        "imposibilidad de acudir",
        "por lo que me es imposible acercarme a las agencias del IESS de forma presencial a "
        "realizar dicho trámite.",
    ),
)

# The fixed words matched for the clauses that also carry the applicant's data;
# the data itself (name, number, place) is matched on its own.
_FIXED_WORDS = {
    "id_number": "portador de la cédula de identidad número",
    "truthfulness": "declaro que la información proporcionada es veraz",
    "residence": "actualmente resido en",
}
_ID_END_ANCHOR = "autorizo al instituto"

_DIGIT_WORDS = {
    "cero": "0",
    "uno": "1",
    "dos": "2",
    "tres": "3",
    "cuatro": "4",
    "cinco": "5",
    "seis": "6",
    "siete": "7",
    "ocho": "8",
    "nueve": "9",
}


def statement_clauses(*, full_name: str, id_number: str, place: str) -> list[Clause]:
    """The seed's statement for this applicant, split into clauses."""
    values = {"name": full_name, "id_number": id_number, "place": place}
    return [Clause(key, label, text.format(**values)) for key, label, text in _TEMPLATE]


def expected_statement(*, full_name: str, id_number: str, place: str) -> str:
    """The statement the applicant must read, word for word as the seed prescribes it."""
    clauses = statement_clauses(full_name=full_name, id_number=id_number, place=place)
    return " ".join(clause.expected for clause in clauses)


# --- text normalisation -------------------------------------------------------

_DOTTED_ACRONYM = re.compile(r"\b(?:[A-Za-z]\.){2,}[A-Za-z]?\.?")
_SPACED_ACRONYM = re.compile(r"\b[A-Z](?: [A-Z]){2,}\b")
_PHONETIC = (
    (re.compile(r"ch"), "ç"),
    (re.compile(r"qu"), "k"),
    (re.compile(r"c(?=[ei])"), "s"),
    (re.compile(r"c"), "k"),
    (re.compile(r"z"), "s"),
    (re.compile(r"v"), "b"),
    (re.compile(r"ll"), "y"),
    (re.compile(r"g(?=[ei])"), "j"),
    (re.compile(r"h"), ""),
    (re.compile(r"y\b"), "i"),
    (re.compile(r"([a-z])\1+"), r"\1"),
)


def _plain(text: str) -> str:
    """Lower case, no accents, no punctuation, single spaces ("I.E.S.S." -> "iess")."""
    text = _DOTTED_ACRONYM.sub(lambda m: m.group().replace(".", ""), text)
    text = _SPACED_ACRONYM.sub(lambda m: m.group().replace(" ", ""), text)
    text = unicodedata.normalize("NFKD", text)
    text = "".join(char for char in text if not unicodedata.combining(char)).lower()
    return " ".join(re.sub(r"[^a-z0-9]+", " ", text).split())


def _phonetic(plain: str) -> str:
    """A rough Spanish sound-spelling of plain text, so that spelling slips do not count."""
    for pattern, replacement in _PHONETIC:
        plain = pattern.sub(replacement, plain)
    return plain


def _key(text: str) -> str:
    """Plain, then phonetic, word by word (so that words keep their count and order)."""
    return " ".join(_phonetic(word) or word for word in _plain(text).split())


# --- fuzzy search -------------------------------------------------------------


def _find(needle: str, haystack: str) -> tuple[float, int, int]:
    """Best fuzzy occurrence of `needle` in `haystack`: (score 0..1, start, end) in haystack.

    A haystack shorter than the needle cannot hold it: the score is scaled down.
    """
    if not needle or not haystack:
        return 0.0, 0, 0
    found = fuzz.partial_ratio_alignment(needle, haystack)
    if found is None:
        return 0.0, 0, 0
    score = found.score / 100 * min(1.0, len(haystack) / len(needle))
    return score, found.dest_start, found.dest_end


def _best_word_match(word: str, words: list[str]) -> tuple[float, str]:
    """Best match of one name word among single words and runs of two or three
    words joined ("toma la" for "tomalá"): (score 0..1, what was heard)."""
    best, heard = 0.0, ""
    for size in (1, 2, 3):
        for start in range(len(words) - size + 1):
            candidate = "".join(words[start : start + size])
            score = fuzz.ratio(word, candidate) / 100
            if score > best:
                best, heard = score, " ".join(words[start : start + size])
    return best, heard


# --- the parts of the statement ------------------------------------------------


@dataclass
class _Heard:
    """A transcript as words: `plain` for showing, `keys` (phonetic) for matching."""

    plain: list[str]
    keys: list[str]

    @classmethod
    def of(cls, text: str) -> "_Heard":
        plain = _plain(text).split()
        return cls(plain, [_phonetic(word) or word for word in plain])

    @property
    def text(self) -> str:
        return " ".join(self.keys)

    def find(self, words: str) -> tuple[float, int, int]:
        """Best fuzzy occurrence of `words`: (score 0..1, first word, word after the last).

        An alignment that starts or ends inside a word takes the word only when it
        covers at least half of it.
        """
        score, start, end = _find(_key(words), self.text)
        if end <= start:
            return score, 0, 0
        first = last = 0
        offset = 0
        for index, word in enumerate(self.keys):
            middle = offset + len(word) / 2
            if start > middle:
                first = index + 1
            if end > middle:
                last = index + 1
            offset += len(word) + 1
        return score, first, max(first, last)


@dataclass
class _NameResult:
    score: float
    heard: bool
    different: bool
    spoken: str
    words: list[dict]


def _match_name(first_names: str, last_names: str, heard: _Heard) -> _NameResult:
    """Given names and surnames, each word looked for before "portador de la cédula"
    (where the statement puts them), else anywhere."""
    anchor_score, anchor_start, _ = heard.find(_FIXED_WORDS["id_number"])
    end = anchor_start if anchor_score >= CLAUSE_DOUBTFUL and anchor_start > 0 else len(heard.keys)
    start = 1 if heard.keys[:1] == ["yo"] else 0
    # The alignment may start after a misheard "portador" ("por tan orden", "por favor").
    before = [
        (fuzz.ratio("".join(heard.keys[first:end]), "portador"), first)
        for first in range(max(start, end - 3), end)
    ]
    if before and max(before)[0] >= 60:
        end = max(before)[1]
    words = heard.keys[start:end]
    spoken = " ".join(heard.plain[start:end])

    part_scores = []
    details = []
    for part, names in (("nombres", first_names), ("apellidos", last_names)):
        scores = []
        for name_word in _plain(names).split():
            score, heard_as = _best_word_match(_phonetic(name_word) or name_word, words)
            scores.append(score)
            details.append(
                {"part": part, "word": name_word, "heard_as": heard_as, "score": round(score, 3)}
            )
        # The whole part as one string also counts, for words split or run together.
        whole, _, _ = _find(_key(names).replace(" ", ""), "".join(words))
        part_scores.append(max(sum(scores) / len(scores) if scores else 0.0, whole))
    return _NameResult(
        score=sum(part_scores) / len(part_scores),
        heard=min(part_scores) >= NAME_HEARD,
        different=bool(words) and min(part_scores) < NAME_DIFFERENT,
        spoken=spoken,
        words=details,
    )


@dataclass
class _IdResult:
    fixed_score: float
    similarity: float
    spoken: str
    heard: bool
    different: bool


# Digit words as the recogniser mishears them, seen in transcripts: "dos" as "nos",
# "nueve" as "nuevo(s)". Only used between "número" and "autorizo".
_DIGIT_ALIASES = {"nos": "2", "nuevo": "9", "nuevos": "9"}
_DIGIT_KEYS = {_phonetic(word): digit for word, digit in _DIGIT_WORDS.items()}


def _piece_digit(piece: str) -> tuple[str, float] | None:
    """The digit a (piece of a) word stands for, with how sure the match is."""
    if piece in _DIGIT_WORDS:
        return _DIGIT_WORDS[piece], 1.0
    if piece in _DIGIT_ALIASES:
        return _DIGIT_ALIASES[piece], 1.0
    key = _phonetic(piece)
    if key in _DIGIT_KEYS:
        return _DIGIT_KEYS[key], 1.0
    if len(piece) == 3:  # clipped: "eis" for "seis", "res" for "tres"
        for digit_key, digit in _DIGIT_KEYS.items():
            if len(digit_key) == 4 and digit_key.endswith(key):
                return digit, 0.85
        return None
    if len(piece) < 4:
        return None
    best = max(_DIGIT_KEYS, key=lambda digit_key: fuzz.ratio(key, digit_key))
    score = fuzz.ratio(key, best) / 100
    return (_DIGIT_KEYS[best], score) if score >= 0.8 else None


def _digits_of(word: str) -> str:
    """The digits a word of the ID window stands for: "4" -> "4", "cuato" -> "4", and
    digit words run together: "noscuatro" -> "24", "eisocho" -> "68"; else ""."""
    if any(char.isdigit() for char in word):
        return "".join(char for char in word if char.isdigit())
    splits = [[word]]
    splits += [[word[:i], word[i:]] for i in range(3, len(word) - 2)]
    splits += [
        [word[:i], word[i:j], word[j:]]
        for i in range(3, len(word) - 5)
        for j in range(i + 3, len(word) - 2)
    ]
    best, best_score = "", 0.0
    for pieces in splits:
        matches = [_piece_digit(piece) for piece in pieces]
        if all(matches):
            score = sum(sure for _, sure in matches) / len(matches)
            if score > best_score:
                best, best_score = "".join(digit for digit, _ in matches), score
    return best


def _id_similarity(spoken: str, expected: str) -> float:
    """Levenshtein similarity, also without leading zeros (lost when read as one number)."""
    pairs = {(spoken, expected), (spoken.lstrip("0"), expected.lstrip("0"))}
    return max((Levenshtein.normalized_similarity(a, b) for a, b in pairs if a and b), default=0.0)


def _match_id_number(transcript: str, id_number: str) -> _IdResult:
    """The ID number heard after "número" and before "autorizo", however it was spoken."""
    expected = _plain(id_number).replace(" ", "")
    try:
        converted = alpha2digit(transcript, "es")  # "cero nueve, veintitrés" -> "09, 23"
    except Exception:  # a converter slip must not cost the whole check: keep the words
        converted = transcript
    heard = _Heard.of(converted)
    fixed_score, _, start = heard.find(_FIXED_WORDS["id_number"])
    if fixed_score < 0.5:
        start = 0
    end_score, end_start, _ = _Heard(heard.plain[start:], heard.keys[start:]).find(_ID_END_ANCHOR)
    end = start + end_start if end_score >= 0.7 and end_start > 0 else len(heard.plain)
    window = heard.plain[start:end]

    if not expected.isdigit():  # a passport: letters and digits, spelled out or written
        compact = "".join(window)
        pieces = [compact[i : i + len(expected)] for i in range(len(compact))]
        spoken = max(pieces, key=lambda piece: _id_similarity(piece, expected), default="")
        similarity = _id_similarity(spoken, expected)
        # Letters are spoken in too many ways to call a mismatch "another number".
        return _IdResult(fixed_score, similarity, spoken, similarity >= ID_HEARD, False)

    # Where the statement puts the number: the digits in the window, words between
    # them ignored. In case the anchors were misheard, also every run of digits.
    in_window = "".join(_digits_of(word) for word in window)
    runs = [in_window] + [
        run.replace(" ", "") for run in re.findall(r"\d+(?: \d+)*", " ".join(heard.plain))
    ]
    candidates = [stretch for run in runs for stretch in _stretches(run, len(expected))]
    spoken = max(candidates, key=lambda c: (_id_similarity(c, expected), len(c)), default="")
    similarity = _id_similarity(spoken, expected)
    if similarity < ID_HEARD:
        # Not heard: report the number said where the statement puts it.
        stretches = _stretches(in_window, len(expected))
        said = max(stretches, key=lambda c: _id_similarity(c, expected)) if stretches else spoken
        spoken, similarity = said, _id_similarity(said, expected)
    return _IdResult(
        fixed_score=fixed_score,
        similarity=similarity,
        spoken=spoken,
        heard=similarity >= ID_HEARD,
        different=len(spoken) >= max(ID_MIN_SPOKEN, len(expected) - 3)
        and similarity < ID_DIFFERENT,
    )


def _stretches(run: str, length: int) -> list[str]:
    """A run of digits, or, when it is far longer than the number (a recogniser stuck
    repeating "0-0-0-..."), each stretch of the number's length."""
    if len(run) <= length + 2:
        return [run] if run else []
    return [run[i : i + length] for i in range(len(run) - length + 1)]


def _match_residence(residence: list[list[str]], heard: _Heard) -> list[dict]:
    """Each part of the place (any of its accepted names), looked for after
    "actualmente resido en" when that is heard, else anywhere."""
    anchor_score, _, anchor_end = heard.find(_FIXED_WORDS["residence"])
    start = anchor_end if anchor_score >= CLAUSE_DOUBTFUL else 0
    words = heard.keys[start:] or heard.keys
    plain = heard.plain[start:] or heard.plain
    parts = []
    for label, names in zip(PLACE_PARTS, residence, strict=False):
        best, heard_as, matched = 0.0, "", ""
        for name in names:
            name_key = _key(name)
            size = len(name_key.split()) or 1
            for width in {max(1, size - 1), size, size + 1}:
                for first in range(len(words) - width + 1):
                    candidate = "".join(words[first : first + width])
                    score = fuzz.ratio(name_key.replace(" ", ""), candidate) / 100
                    if score > best:
                        best, matched = score, name
                        heard_as = " ".join(plain[first : first + width])
        parts.append(
            {
                "part": label,
                "expected": names,
                "matched": matched,
                "heard_as": heard_as,
                "score": round(best, 3),
                "heard": best >= PLACE_HEARD,
            }
        )
    return parts


def _residence_verdict(parts: list[dict]) -> tuple[float, bool]:
    """(score, heard): the country, and the region or the city (people often say only
    one of them, and they are often the same name, as Madrid)."""
    if not parts:
        return 0.0, False
    country, rest = parts[0], parts[1:]
    if not rest:
        return country["score"], country["heard"]
    best = max(rest, key=lambda part: part["score"])
    return (country["score"] + best["score"]) / 2, country["heard"] and best["heard"]


def _data_clause_score(words_score: float, data_score: float, data_heard: bool) -> float:
    """A clause that carries the applicant's data: both its words and the data count.
    Data heard in other words ("vivo en ..." for "actualmente resido en ...") is
    doubtful, never missing: the analyst judges the wording."""
    score = min(words_score, data_score)
    return max(score, CLAUSE_DOUBTFUL) if data_heard else score


# --- the finding -------------------------------------------------------------------


def _thresholds() -> dict[str, float]:
    return {
        "clause_heard": CLAUSE_HEARD,
        "clause_doubtful": CLAUSE_DOUBTFUL,
        "name_heard": NAME_HEARD,
        "name_different": NAME_DIFFERENT,
        "id_number_heard": ID_HEARD,
        "id_number_different": ID_DIFFERENT,
        "place_heard": PLACE_HEARD,
    }


def _join_labels(labels: list[str]) -> str:
    return labels[0] if len(labels) == 1 else ", ".join(labels[:-1]) + " y " + labels[-1]


def statement_match(
    transcript: str,
    *,
    first_names: str,
    last_names: str,
    id_number: str,
    residence: list[list[str]],
) -> Finding:
    """Compare a transcript with the statement prescribed for this applicant.

    `residence` holds the parts of the place in order (country, region, city),
    each a list of accepted spoken names, e.g.
    [["España", "Spain"], ["Madrid", "Comunidad de Madrid"], ["Madrid"]].
    """
    place = ", ".join(names[0] for names in residence if names)
    clauses = statement_clauses(
        full_name=f"{first_names} {last_names}", id_number=id_number, place=place
    )
    heard = _Heard.of(transcript)
    evidence: dict = {
        "transcript": transcript,
        "expected_statement": " ".join(clause.expected for clause in clauses),
        "thresholds": _thresholds(),
    }
    if len(heard.keys) < MIN_WORDS:
        evidence.update(
            clauses=[
                {**asdict(clause), "score": 0.0, "heard": False, "doubtful": False}
                for clause in clauses
            ],
            missing=[clause.label for clause in clauses],
            doubtful=[],
            name_heard=False,
            id_number_heard=False,
            id_number_spoken="",
            residence_heard=False,
        )
        return Finding(FAIL, "No se escucha la declaración en el video.", 0.0, evidence)

    name = _match_name(first_names, last_names, heard)
    id_result = _match_id_number(transcript, id_number)
    residence_parts = _match_residence(residence, heard)
    residence_score, residence_heard = _residence_verdict(residence_parts)

    scores = {}
    for clause in clauses:
        if clause.key == "name":
            scores[clause.key] = name.score
        elif clause.key == "id_number":
            scores[clause.key] = _data_clause_score(
                id_result.fixed_score, id_result.similarity, id_result.heard
            )
        elif clause.key == "residence":
            fixed = heard.find(_FIXED_WORDS["residence"])[0]
            scores[clause.key] = _data_clause_score(fixed, residence_score, residence_heard)
        else:
            words = _FIXED_WORDS.get(clause.key, clause.expected)
            scores[clause.key] = heard.find(words)[0]

    clause_rows = [
        {
            **asdict(clause),
            "score": round(scores[clause.key], 3),
            "heard": scores[clause.key] >= CLAUSE_HEARD,
            "doubtful": CLAUSE_DOUBTFUL <= scores[clause.key] < CLAUSE_HEARD,
        }
        for clause in clauses
    ]
    missing = [row["label"] for row in clause_rows if scores[row["key"]] < CLAUSE_DOUBTFUL]
    doubtful = [row["label"] for row in clause_rows if row["doubtful"]]
    score = round(sum(scores.values()) / len(scores), 3)
    evidence.update(
        clauses=clause_rows,
        missing=missing,
        doubtful=doubtful,
        name_heard=name.heard,
        name_score=round(name.score, 3),
        name_spoken=name.spoken,
        name_words=name.words,
        id_number_heard=id_result.heard,
        id_number_spoken=id_result.spoken,
        id_number_similarity=round(id_result.similarity, 3),
        residence_heard=residence_heard,
        residence_parts=residence_parts,
    )

    different = []
    if name.different:
        different.append(f"otro nombre («{name.spoken[:60].title()}»)")
    if id_result.different:
        different.append(f"otro número ({id_result.spoken})")
    if different:
        summary = f"Se escuchó {' y '.join(different)} en lugar de los datos del asegurado."
        return Finding(FAIL, summary, score, evidence)
    if len(missing) == len(clauses):
        return Finding(
            FAIL, "No se escucha la declaración en el video: se oye otra cosa.", score, evidence
        )
    if missing:
        return Finding(FAIL, f"Falta en la declaración: {_join_labels(missing)}.", score, evidence)
    unclear = doubtful + [
        label
        for label, ok in (
            ("identificación (nombre)", name.heard),
            ("número de cédula", id_result.heard),
            ("lugar de residencia", residence_heard),
        )
        if not ok and label not in doubtful
    ]
    if unclear:
        summary = f"Revise la declaración, no se distingue con claridad: {_join_labels(unclear)}."
        return Finding(WARN, summary, score, evidence)
    return Finding(
        PASS,
        "Se escucha la declaración completa, con el nombre, el número de cédula y el lugar de "
        "residencia del asegurado.",
        score,
        evidence,
    )
