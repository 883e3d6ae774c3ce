"""From-scratch optimizers of chapter 5.2, each a ``torch.optim.Optimizer`` subclass.

They follow ``torch.optim``'s names and semantics (schedulers, ``state_dict`` and parameter
groups work; ``maximize``, ``amsgrad``, tensor learning rates, sparse gradients and complex
parameters where ``torch.optim`` has them), and the tests in ``tests/test_optim.py`` and
``tests/test_optim_torch_conventions.py`` check them against ``torch.optim`` or against
step-by-step implementations of the papers' rules.
"""
from .adadelta import Adadelta
from .adafactor import Adafactor
from .adagrad import AdaGrad
from .adam import Adam, AdamW
from .lion import Lion
from .memory import StateBytes, state_bytes
from .rmsprop import RMSProp
from .sgd import SGD
from .sophia import Sophia

# torch.optim's spellings of the same classes
Adagrad, RMSprop = AdaGrad, RMSProp

__all__ = ["SGD", "AdaGrad", "Adagrad", "RMSProp", "RMSprop", "Adadelta", "Adam", "AdamW", "Lion", "Sophia",
           "Adafactor", "StateBytes", "state_bytes"]
