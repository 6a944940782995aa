"""A still of the citizen's video, for the analyst to set beside the ID photos."""

import io

import av

STILL_POSITION = 0.25  # past the start (people settle in), before they look away
STILL_MAX_SIDE = 720


def video_still(source, *, position: float = STILL_POSITION) -> tuple[bytes, float]:
    """A JPEG of the frame at `position` (0-1) of the video's length, and its time in
    seconds. Decodes from the keyframe before that point, so it is quick."""
    with av.open(source) as container:
        stream = container.streams.video[0]
        if stream.duration and stream.time_base:
            duration = float(stream.duration * stream.time_base)
        else:
            duration = (container.duration or 0) / av.time_base
        target = max(0.0, duration * position)
        if target > 0 and stream.time_base:
            container.seek(int(target / stream.time_base), stream=stream, backward=True)
        chosen = None
        for frame in container.decode(stream):
            chosen = frame
            if frame.time is not None and frame.time >= target:
                break
        if chosen is None:
            raise ValueError("el video no tiene cuadros legibles")
        image = chosen.to_image()
        at = round(float(chosen.time or 0.0), 2)
    image.thumbnail((STILL_MAX_SIDE, STILL_MAX_SIDE))
    out = io.BytesIO()
    image.convert("RGB").save(out, "JPEG", quality=85)
    return out.getvalue(), at
