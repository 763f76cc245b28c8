"""The dashboard's widgets: model and data picker, task runner, performance view, report table, overlay viewer."""
