"""Helper package of chapter 5 "최적화와 시각화".

One module per idea, in the order the chapter uses them: ``env``, ``data`` (with
``optional_data``), ``models``, ``training`` (with ``parallel``, and the caches ``run_cache``,
``result_cache``, ``keys``, ``storage``), ``init``, ``symmetry``, ``random_matrix``, ``paired``,
``optim`` (with ``lr_search`` and ``optim_report``), ``momentum_theory``, ``landscape``,
``surfaces``, ``path_sweep``, ``dynamics``, ``stats``, ``report``, ``glue``, ``figures``,
``tables``, ``widgets``, and for the exercises ``answers``, ``checkers``, ``momentum_exercise``,
``optim_check``. Import the module you need, e.g. ``from dldna_helpers.optim import Adam``.
"""
__version__ = "0.1.0"
