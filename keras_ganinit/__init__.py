"""keras_ganinit: data-driven weight initialization for Keras 3.

Pretrain a feature extractor without labels, GAN-style (`GanInitModel`), then
start a supervised model from its weights (`GanPretrainedInitializer`, or
`with_pretrained_initializers` for a whole model). Or calibrate any model's
kernels on a batch of data in one call (`calibrate`).

The implementation lives in `keras_ganinit/_src/`, grouped by concern; the
names below are the public API. Importing the package imports all of them
(and registers every class it saves with Keras), in every process. The
`keras-ganinit` command lives beside it, in `keras_ganinit_cli`, which starts
without Keras and imports the package only in the subcommands that need it.
"""

from keras_ganinit import callbacks, initializers
from keras_ganinit._src.calibration.calibrate import calibrate
from keras_ganinit._src.calibration.lsuv import lsuv
from keras_ganinit._src.calibration.report import CalibrationReport
from keras_ganinit._src.diagnostics.activation_report import (
    ActivationReport,
    activation_report,
)
from keras_ganinit._src.diagnostics.compare_reports import (
    ReportComparison,
    compare_reports,
)
from keras_ganinit._src.diagnostics.linear_probe import (
    LinearProbeResult,
    linear_probe,
)
from keras_ganinit._src.diagnostics.plot_filters import plot_filters
from keras_ganinit._src.mirror.mirror import mirror
from keras_ganinit._src.pretraining.gan_init_model import GanInitModel
from keras_ganinit._src.pretraining.layerwise import pretrain_layerwise
from keras_ganinit._src.transfer.detach import detach
from keras_ganinit._src.transfer.gan_pretrained_initializer import (
    GanPretrainedInitializer,
)
from keras_ganinit._src.transfer.with_pretrained_initializers import (
    with_pretrained_initializers,
)

__version__ = "0.3.0.dev0"

__all__ = [
    "ActivationReport",
    "CalibrationReport",
    "GanInitModel",
    "GanPretrainedInitializer",
    "LinearProbeResult",
    "ReportComparison",
    "__version__",
    "activation_report",
    "calibrate",
    "callbacks",
    "compare_reports",
    "detach",
    "initializers",
    "linear_probe",
    "lsuv",
    "mirror",
    "plot_filters",
    "pretrain_layerwise",
    "with_pretrained_initializers",
]
