"""The dashboard's widgets: the page (:mod:`.dashboard`) and its tabs (:mod:`.tabs`) on one shared state
(:mod:`.state`), and the pieces they are made of: model and data picker, job runner, performance view and
comparison, explorer, report table, overlay viewer, deployment and archives. ``voila/templates/segwb`` is the
Voila page they are served in (:mod:`.serve` starts Voila with it)."""
