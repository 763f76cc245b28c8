"""The dashboard's tabs, one module each, in the order the page shows them. Each builds its widgets from the
shared :class:`widgets.state.DashboardState`: it reads the form's options and the project's results from it, runs
its jobs through its runner, and has ``title`` and ``widget``."""
