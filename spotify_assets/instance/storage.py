"""The Dagster instance's SQLite storage, with its database connections kept open between statements.

Dagster's SQLite storages create an engine, open the database file and throw both away for every statement
(NullPool). A poll stores some 220 events over three runs, an import's build over 400, and each event takes
several statements (its run's database, the asset index, check executions): opening and closing them cost
about 2 s of a 13 s poll (bench/RESULTS.md). These classes keep one pooled connection per database file
instead. The files and their layout are `storage: sqlite`'s, so the UI, the daemon and homes made before
read and write them as ever; SQLite itself arbitrates between processes, as it did. They build on Dagster's
own SQLite classes (private modules, pinned in pyproject.toml): check them when upgrading Dagster
(tests/test_instance_storage.py does).
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterator
from contextlib import contextmanager

from dagster._core.storage.event_log.sqlite.sqlite_event_log import (
    SqliteEventLogStorage,
)
from dagster._core.storage.runs.sqlite.sqlite_run_storage import SqliteRunStorage
from dagster._core.storage.schedules.sqlite.sqlite_schedule_storage import (
    SqliteScheduleStorage,
)
from dagster._core.storage.sqlite import SQLITE_BUSY_TIMEOUT_SECONDS
from dagster._core.storage.sqlite_storage import (
    DagsterSqliteStorage,
    _event_logs_directory,
    _runs_directory,
    _schedule_directory,
)
from sqlalchemy import create_engine
from sqlalchemy.engine import Connection, Engine

# Each run has its own event database; a process touches few at a time (its run, the asset index).
_OPEN_EVENT_DATABASES = 8


def _pooled_engine(connection_string: str) -> Engine:
    # One connection kept open. More are opened and closed as before when Dagster nests one (setting up a new
    # database) or the UI's threads read the run storage at once.
    return create_engine(connection_string, pool_size=1, max_overflow=32,
                         connect_args={"timeout": SQLITE_BUSY_TIMEOUT_SECONDS})


class PooledSqliteEventLogStorage(SqliteEventLogStorage):
    def __init__(self, base_dir: str, inst_data=None):
        self._engines: OrderedDict[str, Engine] = OrderedDict()
        super().__init__(base_dir, inst_data)

    @contextmanager
    def _connect(self, shard: str) -> Iterator[Connection]:
        with self._db_lock:
            engine = self._engines.get(shard)
            if engine is None:
                engine = _pooled_engine(self.conn_string_for_shard(shard))
                if shard not in self._initialized_dbs:
                    self._initdb(engine)
                    self._initialized_dbs.add(shard)
                self._engines[shard] = engine
                while len(self._engines) > _OPEN_EVENT_DATABASES:
                    self._engines.popitem(last=False)[1].dispose()
            self._engines.move_to_end(shard)
            with engine.connect() as connection, connection.begin():
                yield connection

    def dispose(self) -> None:
        with self._db_lock:
            while self._engines:
                self._engines.popitem()[1].dispose()
        super().dispose()


class PooledSqliteRunStorage(SqliteRunStorage):
    def __init__(self, conn_string: str, inst_data=None):
        self._pooled = _pooled_engine(conn_string)
        super().__init__(conn_string, inst_data)

    @contextmanager
    def connect(self) -> Iterator[Connection]:
        with self._pooled.connect() as connection, connection.begin():
            yield connection

    def dispose(self) -> None:
        self._pooled.dispose()
        super().dispose()


class PooledSqliteStorage(DagsterSqliteStorage):
    """`storage: custom` in dagster.yaml, with the same `base_dir` as `storage: sqlite`."""

    def __init__(self, base_dir: str, inst_data=None):
        # DagsterSqliteStorage.__init__ would open the stock storages first: set up its attributes here.
        self.base_dir = base_dir
        self._run_storage = PooledSqliteRunStorage.from_local(_runs_directory(base_dir))
        self._event_log_storage = PooledSqliteEventLogStorage(_event_logs_directory(base_dir))
        self._schedule_storage = SqliteScheduleStorage.from_local(_schedule_directory(base_dir))
        self._inst_data = inst_data
        super(DagsterSqliteStorage, self).__init__()

    @classmethod
    def from_config_value(cls, inst_data, config_value) -> PooledSqliteStorage:
        return cls.from_local(inst_data=inst_data, **config_value)
