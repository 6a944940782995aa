"""The still of the citizen's video shown beside the ID photos."""

import io

from PIL import Image

from ventanilla.review.media import video_still
from ventanilla.testing import media


def test_the_still_is_a_frame_at_a_quarter_of_the_video():
    video = media.mp4_bytes(seconds=4)
    jpeg, at = video_still(io.BytesIO(video))
    image = Image.open(io.BytesIO(jpeg))
    assert image.format == "JPEG"
    assert max(image.size) <= 720
    assert 0.8 <= at <= 1.4  # a quarter of 4 s, to the nearest frame after the keyframe
