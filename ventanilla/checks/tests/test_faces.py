"""face_match: the same person everywhere passes; another face anywhere fails; a
missing face leaves the comparison incomplete and says where."""

import io
import json

import av
import cv2
import numpy as np
import pytest

from ventanilla.checks.engines import FAIL, PASS, WARN
from ventanilla.checks.engines.faces import CROP_SIZE, TOLERANCE, face_match, find_faces
from ventanilla.checks.engines.imaging import document_images
from ventanilla.testing import identity_media
from ventanilla.testing.factories import PEOPLE

PERSON = PEOPLE[0]


def _jpeg(data: bytes) -> list[np.ndarray]:
    return document_images(data, "jpeg")


def _frames(video: bytes, count: int = 3) -> list[np.ndarray]:
    """One frame a second, as the pipeline samples a statement video."""
    with av.open(io.BytesIO(video)) as container:
        frames = [
            frame.to_ndarray(format="bgr24")
            for number, frame in enumerate(container.decode(video=0))
            if number % 15 == 7
        ]
    return frames[:count]


@pytest.fixture(scope="module")
def media() -> dict:
    return {
        "selfie_a": _jpeg(identity_media.selfie_jpeg(PERSON)),
        "selfie_b_with_a_card": _jpeg(
            identity_media.selfie_jpeg(PERSON, person="b", card_person="a")
        ),
        "id_front_a": _jpeg(identity_media.id_card_front_jpeg(PERSON)),
        "id_back": _jpeg(identity_media.id_card_back_jpeg(PERSON)),
        "video_a": _frames(identity_media.face_video_mp4(person="a")),
        "video_b": _frames(identity_media.face_video_mp4(person="b")),
    }


def test_same_person_in_selfie_card_and_video_passes(media):
    finding = face_match(
        selfie=media["selfie_a"], id_front=media["id_front_a"], video_frames=media["video_a"]
    )

    assert finding.outcome == PASS, finding.summary
    assert "misma persona" in finding.summary
    distances = finding.evidence["distances"]
    assert set(distances) == {"selfie", "selfie_card", "id_front", "video"}
    assert all(value < TOLERANCE for row in distances.values() for value in row.values())
    assert finding.score == pytest.approx(1 - max(max(row.values()) for row in distances.values()))
    # The analyst sees the four crops side by side.
    assert set(finding.attachments) == {
        "selfie.jpg",
        "selfie_card.jpg",
        "id_front.jpg",
        "video.jpg",
    }
    for crop in finding.attachments.values():
        image = cv2.imdecode(np.frombuffer(crop, np.uint8), cv2.IMREAD_COLOR)
        assert image.shape == (CROP_SIZE, CROP_SIZE, 3)
    assert finding.evidence["faces"]["selfie"]["crop"] == "selfie.jpg"
    # The vectors for the cross-case check travel in the evidence (removed before storing).
    encodings = finding.evidence["encodings"]
    assert set(encodings) == {"selfie", "selfie_card", "id_front", "video"}
    assert all(len(vector) == 128 for vector in encodings.values())
    json.dumps(finding.evidence)


def test_selfie_of_another_person_holding_the_id_fails(media):
    finding = face_match(
        selfie=media["selfie_b_with_a_card"],
        id_front=media["id_front_a"],
        video_frames=media["video_a"],
    )

    assert finding.outcome == FAIL
    assert finding.summary.startswith("El rostro de la selfie no coincide")
    assert finding.evidence["distances"]["selfie"]["id_front"] > TOLERANCE
    # The card she holds is the applicant's: it agrees with the ID front.
    assert finding.evidence["distances"]["selfie_card"]["id_front"] < TOLERANCE
    assert finding.score < 1 - TOLERANCE


def test_video_of_another_person_fails(media):
    finding = face_match(
        selfie=media["selfie_a"], id_front=media["id_front_a"], video_frames=media["video_b"]
    )

    assert finding.outcome == FAIL
    assert finding.summary.startswith("El rostro del video no coincide")
    assert all(distance > TOLERANCE for distance in finding.evidence["distances"]["video"].values())


def test_one_video_frame_of_another_person_is_not_hidden_by_the_others(media):
    frames = media["video_a"][:2] + media["video_b"][:1]

    finding = face_match(
        selfie=media["selfie_a"], id_front=media["id_front_a"], video_frames=frames
    )

    assert finding.outcome == FAIL
    assert "1 de 3 fotogramas" in finding.summary
    per_frame = [frame["distances"]["id_front"] for frame in finding.evidence["video_frames"]]
    assert [distance > TOLERANCE for distance in per_frame] == [False, False, True]


def test_long_video_is_sampled_from_first_to_last_frame(media):
    # Eight frames, the applicant in all but the last: the last one is still examined.
    frames = [media["video_a"][0]] * 7 + [media["video_b"][0]]

    finding = face_match(
        selfie=media["selfie_a"], id_front=media["id_front_a"], video_frames=frames
    )

    assert finding.outcome == FAIL
    assert [entry["frame"] for entry in finding.evidence["detections"]["video"]] == [0, 2, 5, 7]


def test_selfie_without_a_face_warns_that_the_comparison_is_incomplete(media):
    blank = [np.full((1200, 900, 3), 180, np.uint8)]

    finding = face_match(selfie=blank, id_front=media["id_front_a"], video_frames=media["video_a"])

    assert finding.outcome == WARN
    assert finding.summary.startswith("No se encontró un rostro en la selfie")
    assert finding.evidence["missing"] == ["selfie"]
    assert finding.evidence["faces"]["selfie"] is None
    assert set(finding.attachments) == {"id_front.jpg", "video.jpg"}


def test_id_front_without_a_face_warns(media):
    # The citizen uploaded the back of the card twice.
    finding = face_match(
        selfie=media["selfie_a"], id_front=media["id_back"], video_frames=media["video_a"]
    )

    assert finding.outcome == WARN
    assert "No se encontró un rostro en el anverso de la cédula" in finding.summary


def test_another_face_wins_over_a_missing_one(media):
    finding = face_match(selfie=media["selfie_a"], id_front=[], video_frames=media["video_b"])

    assert finding.outcome == FAIL
    assert finding.evidence["missing"] == ["id_front"]


def test_find_faces_returns_the_person_first_and_the_card_photo_second(media):
    selfie = media["selfie_a"][0]

    faces = find_faces(selfie)

    assert len(faces) == 2
    person, card = faces
    assert person.box[2] * person.box[3] > card.box[2] * card.box[3]
    assert person.box[1] < selfie.shape[0] / 3 < 2 * selfie.shape[0] / 3 < card.box[1]
    assert all(face.score >= 0.3 and face.encoding.shape == (128,) for face in faces)
    assert np.linalg.norm(person.encoding - card.encoding) < TOLERANCE


def test_weak_detections_are_discarded():
    # Upsampled, the astronaut's shoulder patch scores about 0.12 as a "face".
    image = identity_media.face_image("a")

    everything = find_faces(image, upsample=1, min_score=0.0)
    faces = find_faces(image, upsample=1)

    assert len(everything) == 2
    assert len(faces) == 1
    assert faces[0].score > 1
