"""The studies, by the name `python -m benchmarks <study>` takes.

Each maps to the question its docs page (docs/benchmarks/<name with
dashes>.md) answers; its module is imported only when run, so `--list`
starts fast.
"""

STUDIES = {
    "few_labels": "Does pretraining help when labels are few?",
    "depth": "How deep can a plain network go, and from which start?",
    "init_quality": (
        "Does the start speed up supervised training, and is it worth its cost?"
    ),
    "do_no_harm": (
        "Does pretraining ever leave a user worse off than calibration alone?"
    ),
    "normalization": "Should BatchNormalization be transferred or start fresh?",
    "architectures": "Does the whole pipeline run on every keras.applications family?",
    "throughput": "How fast is pretraining, against a hand-written loop?",
    "sequences": (
        "Does calibrate start recurrent, attention and residual networks well?"
    ),
    "sequence_pretraining": (
        "Which pretraining recipe should sequence extractors get: autoencoder, "
        "next step or GAN?"
    ),
}
