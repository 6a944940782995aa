"""Face match: do the selfie, the ID card's photo and the video show the same person?

dlib is called directly: its HOG frontal-face detector (with a confidence score per
detection), the 5-point landmark model and the ResNet face encoder shipped in the
``face_recognition_models`` package (nothing is downloaded). Two encodings of the
same person lie at a Euclidean distance well under 0.6; measured here: the same
person 0.05-0.36, another person 0.68-0.69.
"""

import threading
import warnings
from collections import Counter
from dataclasses import dataclass
from itertools import combinations

import cv2
import numpy as np

from . import FAIL, PASS, WARN, Finding

# Detections scoring under this are mostly not faces (a shoulder, a pattern).
MIN_SCORE = 0.3
# Encodings farther apart than this belong to different people (dlib's usual threshold).
TOLERANCE = 0.6
# Images are searched at most at this size (long side, pixels): HOG time grows with the
# area, and a face smaller than ~8 % of this side is missed at upsample 0. When an
# expected face is missing, face_match searches once more at RETRY_SIDE (or upsampled
# when the image is no larger than DETECT_SIDE).
DETECT_SIDE = 1000
RETRY_SIDE = 1600
# A statement video shows the face large, so its frames are searched at this size, with
# no second search; and at most MAX_VIDEO_FRAMES of them (spread over the video), which
# bounds the time: each frame costs a detection and an encoding (~0.1 s each here).
VIDEO_DETECT_SIDE = 640
MAX_VIDEO_FRAMES = 4
CROP_SIZE = 160
# Margin around the detected box for the analyst's crop, as a share of the box side.
CROP_MARGIN = 0.35

SOURCES = ("selfie", "selfie_card", "id_front", "video")
# Spanish names, as they read after "en" / "de".
SOURCE_LABELS = {
    "selfie": "la selfie",
    "selfie_card": "la cédula que sostiene en la selfie",
    "id_front": "el anverso de la cédula",
    "video": "el video",
}
REQUIRED = ("selfie", "id_front", "video")


@dataclass
class FaceFound:
    """One detected face: ``box`` is (x, y, width, height) in the source image."""

    box: tuple[int, int, int, int]
    score: float
    encoding: np.ndarray  # 128 floats
    crop_jpeg: bytes  # CROP_SIZE × CROP_SIZE, for the analyst


@dataclass(frozen=True)
class _Models:
    detector: object
    landmarks: object
    encoder: object


_models: _Models | None = None
_models_lock = threading.Lock()
# dlib's objects are not documented as thread-safe: one call at a time per process.
_dlib_lock = threading.Lock()


def _load_models() -> _Models:
    """Load the three dlib models once per process (0.6-0.9 s with the dlib import)."""
    global _models
    if _models is None:
        with _models_lock:
            if _models is None:
                import dlib

                with warnings.catch_warnings():
                    # The package still imports pkg_resources, which warns when imported.
                    warnings.simplefilter("ignore", UserWarning)
                    warnings.simplefilter("ignore", DeprecationWarning)
                    import face_recognition_models as files

                _models = _Models(
                    detector=dlib.get_frontal_face_detector(),
                    landmarks=dlib.shape_predictor(
                        files.pose_predictor_five_point_model_location()
                    ),
                    encoder=dlib.face_recognition_model_v1(files.face_recognition_model_location()),
                )
    return _models


def _as_bgr(image: np.ndarray) -> np.ndarray:
    if image.ndim == 2:
        return cv2.cvtColor(image, cv2.COLOR_GRAY2BGR)
    if image.shape[2] == 4:
        return cv2.cvtColor(image, cv2.COLOR_BGRA2BGR)
    return image


def _crop_jpeg(image: np.ndarray, box: tuple[int, int, int, int]) -> bytes:
    """A square JPEG of the face with some margin, grey where it runs past the edge."""
    x, y, w, h = box
    side = round(max(w, h) * (1 + 2 * CROP_MARGIN))
    left, top = round(x + w / 2 - side / 2), round(y + h / 2 - side / 2)
    right, bottom = left + side, top + side
    height, width = image.shape[:2]
    patch = image[max(0, top) : min(height, bottom), max(0, left) : min(width, right)]
    square = cv2.copyMakeBorder(
        patch,
        max(0, -top),
        max(0, bottom - height),
        max(0, -left),
        max(0, right - width),
        cv2.BORDER_CONSTANT,
        value=(128, 128, 128),
    )
    interpolation = cv2.INTER_AREA if side > CROP_SIZE else cv2.INTER_CUBIC
    thumbnail = cv2.resize(square, (CROP_SIZE, CROP_SIZE), interpolation=interpolation)
    ok, encoded = cv2.imencode(".jpg", thumbnail, [cv2.IMWRITE_JPEG_QUALITY, 88])
    if not ok:  # pragma: no cover - OpenCV encodes any 8-bit image
        raise RuntimeError("could not encode the face crop")
    return encoded.tobytes()


def _encode(models: _Models, image: np.ndarray, box: tuple[int, int, int, int]) -> np.ndarray:
    """The 128-d encoding of the face in ``box``, computed on a region around it at the
    source resolution (the encoder takes its own 150 px aligned chip from it)."""
    import dlib

    x, y, w, h = box
    height, width = image.shape[:2]
    left, top = max(0, x - w), max(0, y - h)
    right, bottom = min(width, x + 2 * w), min(height, y + 2 * h)
    region = cv2.cvtColor(image[top:bottom, left:right], cv2.COLOR_BGR2RGB)
    rect = dlib.rectangle(x - left, y - top, x - left + w, y - top + h)
    with _dlib_lock:
        shape = models.landmarks(region, rect)
        descriptor = models.encoder.compute_face_descriptor(region, shape)
    return np.asarray(descriptor, dtype=np.float64)


def find_faces(
    image: np.ndarray,
    *,
    min_score: float = MIN_SCORE,
    upsample: int = 0,
    max_side: int = DETECT_SIDE,
) -> list[FaceFound]:
    """The frontal faces in a BGR image scoring at least ``min_score``, largest first.

    The image is searched shrunk to ``max_side`` pixels on its long side (never
    enlarged); ``upsample`` doubles it that many times more inside the detector, to
    find faces under ~80 px (each step costs about 4 times as much).
    """
    models = _load_models()
    image = _as_bgr(image)
    height, width = image.shape[:2]
    scale = min(1.0, max_side / max(height, width))
    small = image
    if scale < 1:
        size = (max(1, round(width * scale)), max(1, round(height * scale)))
        small = cv2.resize(image, size, interpolation=cv2.INTER_AREA)
    rgb = cv2.cvtColor(small, cv2.COLOR_BGR2RGB)
    with _dlib_lock:
        rects, scores, _ = models.detector.run(rgb, upsample, 0.0)

    faces = []
    for rect, score in zip(rects, scores, strict=True):
        if score < min_score:
            continue
        x0, y0 = max(0, round(rect.left() / scale)), max(0, round(rect.top() / scale))
        x1 = min(width, round((rect.right() + 1) / scale))
        y1 = min(height, round((rect.bottom() + 1) / scale))
        if x1 - x0 < 8 or y1 - y0 < 8:
            continue
        box = (x0, y0, x1 - x0, y1 - y0)
        faces.append(
            FaceFound(
                box=box,
                score=round(float(score), 3),
                encoding=_encode(models, image, box),
                crop_jpeg=_crop_jpeg(image, box),
            )
        )
    faces.sort(key=lambda face: face.box[2] * face.box[3], reverse=True)
    return faces


# --- the check ---------------------------------------------------------------------------


@dataclass
class _Located:
    face: FaceFound
    index: int  # page or frame


def _search(image: np.ndarray, *, wanted: int) -> list[FaceFound]:
    """Faces in ``image``; when fewer than ``wanted`` are found, search once more with
    more detail (larger, or upsampled when the image is no larger than DETECT_SIDE)."""
    faces = find_faces(image)
    if len(faces) >= wanted:
        return faces
    if max(image.shape[:2]) > DETECT_SIDE:
        retry = find_faces(image, max_side=RETRY_SIDE)
    else:
        retry = find_faces(image, upsample=1)
    return retry if len(retry) > len(faces) else faces


def _spread(count: int, most: int) -> list[int]:
    """Up to ``most`` indexes out of ``count``, evenly spread, first and last included."""
    if count <= most:
        return list(range(count))
    return sorted({round(i * (count - 1) / (most - 1)) for i in range(most)})


def _overlaps(a: tuple[int, int, int, int], b: tuple[int, int, int, int]) -> bool:
    ax, ay, aw, ah = a
    bx, by, bw, bh = b
    return ax < bx + bw and bx < ax + aw and ay < by + bh and by < ay + ah


def _area(face: FaceFound) -> int:
    return face.box[2] * face.box[3]


def _main_face(faces: list[FaceFound]) -> FaceFound | None:
    """The largest face among those scoring at least half the best score: a weak
    detection (a badge, a pattern on clothes) may be as large as the real face."""
    if not faces:
        return None
    best = max(face.score for face in faces)
    return max((face for face in faces if face.score >= best / 2), key=_area)


def _detections(faces: list[FaceFound]) -> list[dict]:
    return [{"box": list(face.box), "score": face.score} for face in faces]


def _distance(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.linalg.norm(a - b))


def _of(source: str) -> str:
    """The source after "de", contracted as Spanish wants: "de la selfie", "del video"."""
    label = SOURCE_LABELS[source]
    return f"del {label[3:]}" if label.startswith("el ") else f"de {label}"


def _mismatch_summary(
    mismatches: list[dict], found: list[str], frames: list[dict], tolerance: float
) -> str:
    """Name the odd one out when one source disagrees with all the others, else the
    farthest pair; say in how many video frames the other face appears."""
    counts = Counter(source for mismatch in mismatches for source in mismatch["between"])
    outlier = max(SOURCES, key=lambda source: (counts[source], -SOURCES.index(source)))
    partners = [source for source in SOURCES if source in found and source != outlier]
    if len(partners) >= 2 and counts[outlier] == len(partners):
        involved = [outlier]
        value = max(m["distance"] for m in mismatches if outlier in m["between"])
        names = [SOURCE_LABELS[source] for source in partners]
        names[0] = _of(partners[0])
        others = f"los {', '.join(names[:-1])} y {names[-1]}"
    else:
        involved = mismatches[0]["between"]
        value = mismatches[0]["distance"]
        others = f"el {_of(involved[1])}"
    detail = f"distancia {value:.2f}, tolerancia {tolerance:.2f}"
    if "video" in involved or (len(involved) == 1 and "video" in partners):
        wrong = sum(
            1 for frame in frames if max(frame["distances"].values(), default=0) > tolerance
        )
        if 0 < wrong < len(frames):
            detail += f"; en {wrong} de {len(frames)} fotogramas del video"
    return (
        f"El rostro {_of(involved[0])} no coincide con {others} ({detail}): puede ser otra persona."
    )


def _locate(
    selfie: list[np.ndarray], id_front: list[np.ndarray], video_frames: list[np.ndarray]
) -> tuple[dict[str, _Located], list[_Located], dict[str, list]]:
    """The face chosen for each source, the main face of each video frame, and every
    detection per page or frame (for the evidence)."""
    found: dict[str, _Located] = {}
    detections: dict[str, list] = {"selfie": [], "id_front": [], "video": []}

    for index, image in enumerate(selfie):
        faces = _search(image, wanted=2)
        detections["selfie"].append(_detections(faces))
        main = _main_face(faces)
        if main is not None and "selfie" not in found:
            found["selfie"] = _Located(main, index)
            others = [face for face in faces if not _overlaps(face.box, main.box)]
            if others:  # the photo on the card the person holds
                found["selfie_card"] = _Located(max(others, key=lambda f: f.score), index)

    for index, image in enumerate(id_front):
        faces = _search(image, wanted=1)
        detections["id_front"].append(_detections(faces))
        main = _main_face(faces)
        if main is not None and (
            "id_front" not in found or _area(main) > _area(found["id_front"].face)
        ):
            found["id_front"] = _Located(main, index)

    video: list[_Located] = []
    for index in _spread(len(video_frames), MAX_VIDEO_FRAMES):
        faces = find_faces(video_frames[index], max_side=VIDEO_DETECT_SIDE)
        detections["video"].append({"frame": index, "faces": _detections(faces)})
        main = _main_face(faces)
        if main is not None:
            video.append(_Located(main, index))
    if video:
        found["video"] = max(video, key=lambda located: located.face.score)
    return found, video, detections


def _distance_matrix(
    found: dict[str, _Located], video: list[_Located]
) -> dict[str, dict[str, float]]:
    """Distances between every two sources; with the video, its farthest frame."""
    distances: dict[str, dict[str, float]] = {source: {} for source in found}
    for a, b in combinations([source for source in SOURCES if source in found], 2):
        if "video" in (a, b):
            other = found[a if b == "video" else b].face.encoding
            value = max(_distance(other, frame.face.encoding) for frame in video)
        else:
            value = _distance(found[a].face.encoding, found[b].face.encoding)
        distances[a][b] = distances[b][a] = round(value, 3)
    return distances


def _agreement_summary(found: dict[str, _Located], largest: float, tolerance: float) -> str:
    figures = f"distancia máxima {largest:.2f}, tolerancia {tolerance:.2f}"
    if "selfie_card" in found:
        return (
            "La selfie, la cédula que sostiene en ella, el anverso de la cédula y el video "
            f"muestran a la misma persona ({figures})."
        )
    return (
        f"La selfie, el anverso de la cédula y el video muestran a la misma persona ({figures}); "
        "no se encontró la foto de la cédula que sostiene en la selfie."
    )


def face_match(
    *,
    selfie: list[np.ndarray],
    id_front: list[np.ndarray],
    video_frames: list[np.ndarray],
    tolerance: float = TOLERANCE,
) -> Finding:
    """Compare the face in the selfie, the card photo held in the selfie, the photo on
    the ID front and the face in the video frames.

    fail: some pair is farther apart than ``tolerance`` (another person); warn: no pair
    disagrees but the selfie, the ID front or the video has no face; pass: all three
    have a face and every pair agrees (the card in the selfie is compared when found).
    For pairs with the video the farthest frame counts, so a frame showing someone
    else is not hidden by the others (at most MAX_VIDEO_FRAMES frames are examined).
    ``evidence["encodings"]`` holds each source's 128-d vector for the cross-case check;
    it is biometric data, to be removed before the evidence is stored.
    Score: 1 - the largest distance between any two sources (clamped to 0..1; 0.4 at
    the tolerance); None when fewer than two sources have a face.
    """
    found, video, detections = _locate(selfie, id_front, video_frames)
    distances = _distance_matrix(found, video)
    frames = [
        {
            "frame": located.index,
            "box": list(located.face.box),
            "score": located.face.score,
            "distances": {
                source: round(_distance(found[source].face.encoding, located.face.encoding), 3)
                for source in SOURCES
                if source in found and source != "video"
            },
        }
        for located in video
    ]
    pairs = sorted(
        ((distances[a][b], a, b) for a, b in combinations(SOURCES, 2) if b in distances.get(a, {})),
        reverse=True,
    )
    mismatches = [
        {"between": [a, b], "distance": value} for value, a, b in pairs if value > tolerance
    ]
    missing = [source for source in REQUIRED if source not in found]
    largest = pairs[0][0] if pairs else None
    score = None if largest is None else round(min(1.0, max(0.0, 1 - largest)), 3)

    if mismatches:
        outcome = FAIL
        summary = _mismatch_summary(mismatches, list(found), frames, tolerance)
    elif missing:
        outcome = WARN
        names = " ni en ".join(SOURCE_LABELS[source] for source in missing)
        agreed = (
            f"; los demás coinciden (distancia máxima {largest:.2f})" if largest is not None else ""
        )
        summary = f"No se encontró un rostro en {names}: la comparación está incompleta{agreed}."
    else:
        outcome = PASS
        summary = _agreement_summary(found, largest, tolerance)

    evidence = {
        "tolerance": tolerance,
        "min_score": MIN_SCORE,
        "faces": {
            source: (
                {
                    "page" if source != "video" else "frame": found[source].index,
                    "box": list(found[source].face.box),
                    "score": found[source].face.score,
                    "crop": f"{source}.jpg",
                }
                if source in found
                else None
            )
            for source in SOURCES
        },
        "detections": detections,
        "distances": distances,
        "video_frames": frames,
        "mismatches": mismatches,
        "missing": missing,
        "score_basis": "1 - la mayor distancia entre dos rostros (0 a 1)",
        # Biometric vectors for the cross-case check: the checks layer removes them
        # before the evidence is stored.
        "encodings": {source: found[source].face.encoding.tolist() for source in found},
    }
    attachments = {f"{source}.jpg": found[source].face.crop_jpeg for source in found}
    return Finding(
        outcome=outcome, summary=summary, score=score, evidence=evidence, attachments=attachments
    )
