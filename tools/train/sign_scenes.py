"""Road scenes with traffic signs pasted in, for the traffic-sign detector.

Needs numpy and PIL only (no torch), so the engine evaluation uses the same
compositor as training.  A scene is a road background (a real dashcam frame
or a procedural road) at the detector's frame size with 0-6 signs pasted at
realistic places and sizes, then degraded; it comes with the signs' boxes.

Signs are 32x32 crops (GTSRB photos or our GAN generator's drawings) cut out
with the shape of their class (circle, triangle, inverted triangle, octagon,
diamond), so no square crop margin shows.  Sizes are drawn as in a
1280x720 camera (10-150 px), scaled to the scene's width.

Held-out data (the GTSRB test set, dashcam-cars-1280x720.mp4) is only ever
used by `Compositor(..., split="eval")`, with a fixed seed.
"""
import io
import math

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

# GTSRB class ids by sign shape.
TRIANGLE = {11, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31}
INVERTED_TRIANGLE = {13}
OCTAGON = {14}
DIAMOND = {12}
# GTSRB crops hold the sign with a margin of about a tenth of the crop.
SIGN_MARGIN = 0.1

DEGRADATIONS = ("clean", "low-light", "blur", "noise", "jpeg")


def shape_of(class_id):
    if class_id in TRIANGLE:
        return "triangle"
    if class_id in INVERTED_TRIANGLE:
        return "inverted-triangle"
    if class_id in OCTAGON:
        return "octagon"
    if class_id in DIAMOND:
        return "diamond"
    return "circle"


def shape_polygon(shape, size):
    """The sign's outline inside a size x size crop (PIL polygon or ellipse box)."""
    m = SIGN_MARGIN * size
    lo, hi = m, size - m
    c = size / 2.0
    if shape == "triangle":
        return [(c, lo), (hi, hi), (lo, hi)]
    if shape == "inverted-triangle":
        return [(lo, lo), (hi, lo), (c, hi)]
    if shape == "diamond":
        return [(c, lo), (hi, c), (c, hi), (lo, c)]
    if shape == "octagon":
        r = (hi - lo) / 2.0
        return [(c + r * math.cos(math.pi / 8 + k * math.pi / 4),
                 c + r * math.sin(math.pi / 8 + k * math.pi / 4)) for k in range(8)]
    return None


def shape_mask(shape, size, supersample=4):
    """Anti-aliased alpha mask (float 0-1) of the sign's shape in a size x size crop."""
    s = size * supersample
    img = Image.new("L", (s, s), 0)
    d = ImageDraw.Draw(img)
    poly = shape_polygon(shape, s)
    if poly is None:
        m = SIGN_MARGIN * s
        d.ellipse([m, m, s - m, s - m], fill=255)
    else:
        d.polygon(poly, fill=255)
    img = img.resize((size, size), Image.BILINEAR)
    return np.asarray(img, np.float32) / 255.0


def read_video_frames(path, width, height, max_frames=0, every=1):
    """Decoded RGB frames [N,H,W,3] uint8 of a video file, scaled to width x height
    (GStreamer); with `every` = k only each k-th frame is kept (long clips)."""
    import gi
    gi.require_version("Gst", "1.0")
    from gi.repository import Gst
    Gst.init(None)
    p = Gst.parse_launch(
        f'filesrc location="{path}" ! decodebin ! videoconvert ! videoscale ! '
        f"video/x-raw,format=RGB,width={width},height={height},pixel-aspect-ratio=1/1 ! "
        "appsink name=sink sync=false emit-signals=false max-buffers=8")
    sink = p.get_by_name("sink")
    p.set_state(Gst.State.PLAYING)
    frames, n_seen = [], 0
    while not max_frames or len(frames) < max_frames:
        sample = sink.emit("try-pull-sample", 10 * Gst.SECOND)
        if sample is None:
            break
        n_seen += 1
        if (n_seen - 1) % every:
            continue
        buf = sample.get_buffer()
        ok, info = buf.map(Gst.MapFlags.READ)
        stride = len(info.data) // height
        a = np.frombuffer(info.data, np.uint8).reshape(height, stride)[:, :width * 3]
        frames.append(a.reshape(height, width, 3).copy())
        buf.unmap(info)
    p.set_state(Gst.State.NULL)
    if not frames:
        raise SystemExit(f"sign_scenes: no frames decoded from {path}")
    return np.stack(frames)


def procedural_road(rng, width, height):
    """A simple road seen from a car: sky, horizon, verges, a road to the vanishing point, lane marks."""
    h, w = height, width
    img = np.empty((h, w, 3), np.float32)
    horizon = int(h * rng.uniform(0.35, 0.5))
    top = np.array(rng.choice([[90, 140, 210], [150, 160, 175], [60, 70, 100], [200, 190, 170]]))
    top = top + rng.uniform(-20, 20, 3)
    t = np.linspace(0, 1, horizon)[:, None]
    img[:horizon] = (top * (1 - t) + (top * 0.6 + 100) * t)[:, None, :]
    ground = np.array(rng.choice([[70, 110, 50], [110, 100, 70], [90, 90, 80], [60, 80, 45]]))
    ground = ground + rng.uniform(-15, 15, 3)
    img[horizon:] = ground
    # distant treeline / buildings along the horizon
    x = 0
    while x < w:
        bw = int(rng.uniform(0.02, 0.12) * w)
        bh = int(rng.uniform(0.01, 0.12) * h)
        col = rng.uniform(30, 120, 3) * np.array([0.8, 1.0, 0.8])
        img[max(0, horizon - bh):horizon, x:x + bw] = col
        x += bw
    vx = w * rng.uniform(0.35, 0.65)
    yy, xx = np.mgrid[horizon:h, 0:w].astype(np.float32)
    depth = (yy - horizon + 1) / (h - horizon)
    half = depth * w * rng.uniform(0.45, 0.8)
    centre = vx + (w * 0.5 - vx) * depth
    road = np.abs(xx - centre) < half
    asphalt = rng.uniform(60, 120)
    sub = img[horizon:]
    sub[road] = asphalt + rng.normal(0, 4, (road.sum(), 1))
    # lane marks: dashed centre line and solid edges
    phase = rng.uniform(0, 1)
    dash = ((1.0 / depth * 0.9 + phase) % 1.0) < 0.45
    for frac, solid in ((0.0, False), (-0.93, True), (0.93, True)):
        lx = centre + frac * half
        line = (np.abs(xx - lx) < np.maximum(1.0, depth * w * 0.008)) & road
        if not solid:
            line &= dash
        sub[line] = 225
    img += rng.normal(0, 3, img.shape)
    return np.clip(img, 0, 255).astype(np.uint8)


class SignSource:
    """32x32 sign crops with class ids, drawn from one array (GTSRB photos or GAN drawings)."""

    def __init__(self, images, labels, name):
        assert images.shape[1:] == (32, 32, 3), images.shape
        self.images, self.labels, self.name = images, labels.astype(np.int64), name

    def draw(self, rng):
        i = int(rng.integers(len(self.images)))
        return self.images[i], int(self.labels[i])


def augment_background(frame, rng):
    """A random zoom (1-1.8x, anywhere in the frame) and colour cast of a real frame."""
    h, w = frame.shape[:2]
    z = float(rng.uniform(1.0, 1.8))
    cw, ch = int(round(w / z)), int(round(h / z))
    x0, y0 = int(rng.integers(0, w - cw + 1)), int(rng.integers(0, h - ch + 1))
    crop = Image.fromarray(np.ascontiguousarray(frame[y0:y0 + ch, x0:x0 + cw]))
    out = np.asarray(crop.resize((w, h), Image.BILINEAR), np.float32)
    gain = rng.uniform(0.75, 1.25) * rng.uniform(0.9, 1.1, size=3)
    out = (out - 128.0) * rng.uniform(0.7, 1.2) + 128.0 + rng.uniform(-25, 25)
    return np.clip(out * gain, 0, 255).astype(np.uint8)


class Compositor:
    """Scenes of width x height with signs; `sources` is a list of (SignSource, weight)."""

    def __init__(self, backgrounds, sources, width=640, height=360, camera_width=1280,
                 min_px=10, max_px=150, max_signs=6, degrade=True, augment_backgrounds=False):
        self.backgrounds = backgrounds          # list of arrays [N,H,W,3] or "procedural"
        self.sources = sources
        self.w, self.h = width, height
        self.scale = width / camera_width
        self.min_px, self.max_px = min_px, max_px
        self.max_signs = max_signs
        self.degrade = degrade
        # training only: a few hundred frames per video are near-duplicates,
        # and a detector that has seen only those rejects signs on any other
        # road (validation AP 0.92 vs 0.57 on an unseen road); a random zoom
        # and colour cast make each frame many
        self.augment_backgrounds = augment_backgrounds
        self._masks = {}

    def mask(self, shape, size):
        key = (shape, size)
        if key not in self._masks:
            self._masks[key] = shape_mask(shape, size)
        return self._masks[key]

    def background(self, rng):
        kind = self.backgrounds[int(rng.integers(len(self.backgrounds)))]
        if isinstance(kind, str):
            return procedural_road(rng, self.w, self.h)
        frame = kind[int(rng.integers(len(kind)))]
        if rng.random() < 0.5:
            frame = frame[:, ::-1]
        if self.augment_backgrounds:
            frame = augment_background(frame, rng)
        return frame.astype(np.float32).copy().astype(np.uint8)

    def scene(self, rng, degradation=None, n_signs=None):
        """(image uint8 [h,w,3], boxes float [K,4] x0,y0,x1,y1, info dict)."""
        img = self.background(rng).astype(np.float32)
        if n_signs is None:
            n_signs = int(rng.integers(0, self.max_signs + 1))
        boxes, metas = [], []
        tries = 0
        while len(boxes) < n_signs and tries < n_signs * 10:
            tries += 1
            placed = self.paste_sign(img, rng, boxes)
            if placed is not None:
                boxes.append(placed[0])
                metas.append(placed[1])
        if degradation is None:
            degradation = rng.choice(DEGRADATIONS, p=[0.4, 0.15, 0.15, 0.15, 0.15]) \
                if self.degrade else "clean"
        img = apply_degradation(img, degradation, rng)
        return img, np.array(boxes, np.float32).reshape(-1, 4), \
            {"degradation": str(degradation), "signs": metas}

    def paste_sign(self, img, rng, boxes):
        src = self.sources[int(rng.choice(len(self.sources), p=self.source_p()))][0]
        crop, cls = src.draw(rng)
        size_cam = math.exp(rng.uniform(math.log(self.min_px), math.log(self.max_px)))
        size = max(4, int(round(size_cam * self.scale / (1 - 2 * SIGN_MARGIN))))
        # perspective: signs seen at an angle are narrower than tall
        sx = rng.uniform(0.7, 1.0) if rng.random() < 0.5 else 1.0
        wpx, hpx = max(3, int(round(size * sx))), size
        shape = shape_of(cls)
        face = Image.fromarray(crop).resize((wpx, hpx), Image.BILINEAR)
        face = np.asarray(face, np.float32)
        alpha = np.asarray(Image.fromarray((self.mask(shape, 64) * 255).astype(np.uint8))
                           .resize((wpx, hpx), Image.BILINEAR), np.float32) / 255.0
        # where: roadside (right, or left) at or above the horizon band, or overhead
        where = rng.choice(["right", "left", "overhead", "anywhere"], p=[0.45, 0.25, 0.1, 0.2])
        if where == "right":
            x0 = rng.uniform(0.55, 1.0) * self.w - wpx / 2
            y0 = rng.uniform(0.15, 0.6) * self.h - hpx / 2
        elif where == "left":
            x0 = rng.uniform(0.0, 0.45) * self.w - wpx / 2
            y0 = rng.uniform(0.15, 0.6) * self.h - hpx / 2
        elif where == "overhead":
            x0 = rng.uniform(0.2, 0.8) * self.w - wpx / 2
            y0 = rng.uniform(0.0, 0.35) * self.h - hpx / 2
        else:
            x0 = rng.uniform(0, self.w - wpx)
            y0 = rng.uniform(0, self.h - hpx)
        # the whole face must fit (its shape margin too)
        if wpx > self.w or hpx > self.h:
            return None
        x0 = int(min(max(round(x0), 0), self.w - wpx))
        y0 = int(min(max(round(y0), 0), self.h - hpx))
        ys, xs = np.nonzero(alpha > 0.5)
        if len(ys) == 0:
            return None
        box = [x0 + xs.min(), y0 + ys.min(), x0 + xs.max() + 1, y0 + ys.max() + 1]
        if box[0] < 0 or box[1] < 0 or box[2] > self.w or box[3] > self.h:
            return None
        for b in boxes:                 # keep signs apart (at most light overlap)
            if iou(box, b) > 0.1:
                return None
        if where != "overhead" and rng.random() < 0.8:      # a pole under roadside signs
            px = x0 + wpx // 2
            pw = max(1, wpx // 12)
            y_top = box[3]
            y_bot = min(self.h, int(y_top + hpx * rng.uniform(1.0, 2.5)))
            img[y_top:y_bot, max(0, px - pw):px + pw] = rng.uniform(90, 160)
        # lighting of the sign itself, then blend
        face = face * rng.uniform(0.6, 1.2) + rng.uniform(-15, 15)
        occluded = 0.0
        if rng.random() < 0.15:         # partial occlusion by a branch / another object
            a = alpha.copy()
            ow = int(wpx * rng.uniform(0.2, 0.45))
            if rng.random() < 0.5:
                a[:, :ow] = 0
            else:
                a[:, wpx - ow:] = 0
            occluded = 1.0 - a.sum() / max(alpha.sum(), 1)
            alpha = a
        region = img[y0:y0 + hpx, x0:x0 + wpx]
        region[:] = region * (1 - alpha[..., None]) + face * alpha[..., None]
        if occluded:
            ys, xs = np.nonzero(alpha > 0.5)
            if len(ys) == 0:
                return None
            box = [x0 + xs.min(), y0 + ys.min(), x0 + xs.max() + 1, y0 + ys.max() + 1]
        meta = {"class_id": cls, "source": src.name, "size_px": size_cam,
                "where": str(where), "occluded": round(float(occluded), 3)}
        return [float(v) for v in box], meta

    def source_p(self):
        w = np.array([s[1] for s in self.sources], np.float64)
        return w / w.sum()


def apply_degradation(img, kind, rng):
    """img float [h,w,3] 0-255 -> uint8, with one degradation of the camera."""
    if kind == "low-light":
        img = img * rng.uniform(0.15, 0.4)
        img = img + rng.normal(0, rng.uniform(2, 6), img.shape)
    elif kind == "noise":
        img = img + rng.normal(0, rng.uniform(8, 20), img.shape)
    out = np.clip(img, 0, 255).astype(np.uint8)
    if kind == "blur":
        pil = Image.fromarray(out)
        if rng.random() < 0.5:
            pil = pil.filter(ImageFilter.GaussianBlur(rng.uniform(0.8, 1.8)))
            out = np.asarray(pil)
        else:                           # horizontal motion blur
            k = int(rng.integers(3, 8))
            f = np.cumsum(out.astype(np.float32), axis=1)
            f = np.concatenate([np.zeros_like(f[:, :1]), f], axis=1)
            blurred = (f[:, k:] - f[:, :-k]) / k
            pad = out.shape[1] - blurred.shape[1]
            out = np.concatenate([blurred, np.repeat(blurred[:, -1:], pad, axis=1)], axis=1)
            out = np.clip(out, 0, 255).astype(np.uint8)
    elif kind == "jpeg":
        buf = io.BytesIO()
        Image.fromarray(out).save(buf, "JPEG", quality=int(rng.integers(15, 45)))
        out = np.asarray(Image.open(io.BytesIO(buf.getvalue())).convert("RGB"))
    return np.ascontiguousarray(out)


def iou(a, b):
    ix = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = ix * iy
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


def letterbox_pad(img, height, pad_value=114):
    """Pads an image of the model's width to `height` rows, centred (imgrecdetect's letterbox)."""
    h = img.shape[0]
    top = (height - h) // 2
    out = np.full((height, img.shape[1], 3), pad_value, np.uint8)
    out[top:top + h] = img
    return out, top
