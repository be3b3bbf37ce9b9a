"""subledger: an event-sourced subscription ledger.

The rooms (``subledger.domain``, ``subledger.commands``, ``subledger.projections``,
``subledger.replay``, ``subledger.api``) stand at the repository's top level; this package
holds what belongs to none of them: the validated configuration, the event store shared by
the rooms, the composition root and the command line.
"""

__version__ = "0.1.0"
