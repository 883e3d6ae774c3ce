"""Helper package of chapter 5 "최적화와 시각화".

One module per idea, in the order the chapter uses them: ``env``, ``data``, ``models``,
``training``, ``init``, ``optim``, ``landscape``, ``surfaces``, ``dynamics``,
``plotting``, ``widgets``. Import the module you need, e.g.
``from dldna_helpers.optim import Adam``.
"""
__version__ = "0.1.0"
