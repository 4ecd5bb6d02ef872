"""The language server (``shapecheck lsp``, the ``lsp`` extra: pygls + lsprotocol).

- :mod:`.analysis`: the workspace model without any protocol: checks a spec
  (the lint pipeline: checker, inline suppressions, ``[tool.shapecheck]``),
  caches parses and results per text, tracks the ``use`` closure.
- :mod:`.index`: definitions and references of every name (navigation).
- :mod:`.shapes`: per-statement shapes from the checker's result (hover, inlay hints).
- :mod:`.features`: hover, completion, signature help, code actions, as plain data.
- :mod:`.server`: the pygls wiring (the only module importing pygls).

The lint path never imports this package.
"""
