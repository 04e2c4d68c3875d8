"""Write a small, deterministic toy dataset that a model can learn.

``--task seg`` writes an ADE20K-layout semantic segmentation set::

    OUT/images/{training,validation}/*.jpg
    OUT/annotations/{training,validation}/*.png   (0 = unlabeled,
                                                  1 = background, 2.. shapes)

``--task det`` writes a COCO-format instance set::

    OUT/{train,val}/*.jpg
    OUT/annotations/instances_{train,val}.json  (boxes, polygons, areas)

Images are textured backgrounds with a few filled shapes (square, circle,
triangle), each class in its own colour family, so a tiny model learns them
within minutes on a CPU.
"""
import argparse
import json
import os
import os.path as osp

import cv2
import numpy as np

CLASSES = ('square', 'circle', 'triangle')
# Base BGR colour of each shape class; the background uses grey-brown tones.
SHAPE_COLOURS = ((40, 40, 210), (40, 200, 40), (210, 60, 40))


def textured_background(rng, size):
    """Low-frequency noise plus stripes in muted tones."""
    h, w = size
    base = rng.integers(60, 160, size=3)
    noise = cv2.resize(rng.normal(0, 25, (h // 8, w // 8, 3)), (w, h))
    yy, xx = np.mgrid[0:h, 0:w]
    angle = rng.uniform(0, np.pi)
    stripes = 15 * np.sin((xx * np.cos(angle) + yy * np.sin(angle)) /
                          rng.uniform(3, 8))
    img = base + noise + stripes[..., None]
    return np.clip(img, 0, 255).astype(np.uint8)


def shape_polygon(rng, cls, size, min_side):
    """A polygon (N x 2 int array) of class ``cls`` inside the image."""
    h, w = size
    r = rng.uniform(min_side / 2, min(h, w) / 3.5)
    cx, cy = rng.uniform(r, w - r), rng.uniform(r, h - r)
    if CLASSES[cls] == 'circle':
        t = np.linspace(0, 2 * np.pi, 24, endpoint=False)
    elif CLASSES[cls] == 'square':
        t = np.linspace(0, 2 * np.pi, 4, endpoint=False) + np.pi / 4
    else:
        t = np.linspace(0, 2 * np.pi, 3, endpoint=False) - np.pi / 2
    t = t + (rng.uniform(0, np.pi / 2) if CLASSES[cls] == 'square' else 0)
    pts = np.stack([cx + r * np.cos(t), cy + r * np.sin(t)], axis=1)
    return np.round(pts).astype(np.int32)


def draw_image(rng, size, max_shapes, min_side):
    """Return (image, class map, [(class, polygon, instance mask), ...])."""
    img = textured_background(rng, size)
    class_map = np.ones(size, np.uint8)  # 1 = background
    shapes = []
    for _ in range(rng.integers(2, max_shapes + 1)):
        cls = int(rng.integers(len(CLASSES)))
        poly = shape_polygon(rng, cls, size, min_side)
        mask = np.zeros(size, np.uint8)
        cv2.fillPoly(mask, [poly], 1)
        colour = np.clip(np.array(SHAPE_COLOURS[cls]) +
                         rng.integers(-25, 26, 3), 0, 255)
        img[mask > 0] = colour
        class_map[mask > 0] = cls + 2
        for prev in shapes:  # later shapes occlude earlier ones
            prev[2][mask > 0] = 0
        shapes.append([cls, poly, mask])
    return img, class_map, [s for s in shapes if s[2].sum() > 0]


def write_seg(out, rng, splits, size):
    for split, count in splits.items():
        img_dir = osp.join(out, 'images', split)
        ann_dir = osp.join(out, 'annotations', split)
        os.makedirs(img_dir, exist_ok=True)
        os.makedirs(ann_dir, exist_ok=True)
        for i in range(count):
            img, class_map, _ = draw_image(rng, size, 4, size[0] // 4)
            name = f'toy_{split}_{i:05d}'
            cv2.imwrite(osp.join(img_dir, name + '.jpg'), img,
                        [cv2.IMWRITE_JPEG_QUALITY, 95])
            cv2.imwrite(osp.join(ann_dir, name + '.png'), class_map)


def instance_annotation(shape, image_id, ann_id):
    cls, _, mask = shape
    contours, _ = cv2.findContours(mask, cv2.RETR_EXTERNAL,
                                   cv2.CHAIN_APPROX_SIMPLE)
    polygons = [c.reshape(-1).astype(float).tolist() for c in contours
                if len(c) >= 3]
    ys, xs = np.nonzero(mask)
    x0, y0 = float(xs.min()), float(ys.min())
    box = [x0, y0, float(xs.max()) + 1 - x0, float(ys.max()) + 1 - y0]
    return dict(id=ann_id, image_id=image_id, category_id=cls + 1,
                bbox=box, area=float(mask.sum()), segmentation=polygons,
                iscrowd=0)


def write_det(out, rng, splits, size):
    os.makedirs(osp.join(out, 'annotations'), exist_ok=True)
    categories = [dict(id=i + 1, name=n) for i, n in enumerate(CLASSES)]
    for split, count in splits.items():
        os.makedirs(osp.join(out, split), exist_ok=True)
        images, annotations = [], []
        for i in range(count):
            img, _, shapes = draw_image(rng, size, 4, size[0] // 5)
            name = f'toy_{split}_{i:05d}.jpg'
            cv2.imwrite(osp.join(out, split, name), img,
                        [cv2.IMWRITE_JPEG_QUALITY, 95])
            images.append(dict(id=i + 1, file_name=name, height=size[0],
                               width=size[1]))
            for shape in shapes:
                ann = instance_annotation(shape, i + 1, len(annotations) + 1)
                if ann['segmentation']:
                    annotations.append(ann)
        with open(osp.join(out, 'annotations', f'instances_{split}.json'),
                  'w') as f:
            json.dump(dict(images=images, annotations=annotations,
                           categories=categories), f)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--task', choices=['seg', 'det'], required=True)
    parser.add_argument('--out', required=True, help='output folder')
    parser.add_argument('--num-train', type=int, default=None)
    parser.add_argument('--num-val', type=int, default=None)
    parser.add_argument('--size', type=int, default=None,
                        help='square image side in pixels')
    parser.add_argument('--seed', type=int, default=0)
    args = parser.parse_args(argv)
    rng = np.random.default_rng(args.seed)
    if args.task == 'seg':
        size = args.size or 64
        splits = dict(training=args.num_train or 96,
                      validation=args.num_val or 24)
        write_seg(args.out, rng, splits, (size, size))
    else:
        size = args.size or 128
        splits = dict(train=args.num_train or 96, val=args.num_val or 24)
        write_det(args.out, rng, splits, (size, size))
    print(f'wrote the toy {args.task} dataset to {args.out}')


if __name__ == '__main__':
    main()
