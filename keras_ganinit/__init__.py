"""keras_ganinit: data-driven weight initialization for Keras 3.

Pretrain a feature extractor without labels, GAN-style (`GanInitModel`), then
start a supervised model from its weights (`GanPretrainedInitializer`, or
`with_pretrained_initializers` for a whole model).
"""

from keras_ganinit import callbacks
from keras_ganinit.activation_report import ActivationReport, activation_report
from keras_ganinit.compare_reports import ReportComparison, compare_reports
from keras_ganinit.gan_init_model import GanInitModel
from keras_ganinit.gan_pretrained_initializer import GanPretrainedInitializer
from keras_ganinit.lsuv import lsuv
from keras_ganinit.mirror import mirror
from keras_ganinit.plot_filters import plot_filters
from keras_ganinit.with_pretrained_initializers import with_pretrained_initializers

__version__ = "0.2.0"

__all__ = [
    "ActivationReport",
    "GanInitModel",
    "GanPretrainedInitializer",
    "ReportComparison",
    "__version__",
    "activation_report",
    "callbacks",
    "compare_reports",
    "lsuv",
    "mirror",
    "plot_filters",
    "with_pretrained_initializers",
]
