"""airflow.models.dag (stand-in): DAG, and DAG.test() to run one DAG run in this process.

DAG(dag_id, schedule=..., start_date=..., params=..., default_args=..., ...) is a context manager: operators
created inside it join it. DAG.test(logical_date=None, run_conf=None) runs one DAG run, as Airflow documents
`dag.test()` (the Airflow 2.5+ way to run a DAG file without a scheduler): tasks in dependency order, each
after its upstream tasks succeeded (else "upstream_failed"), a mapped task once per map index; each task
instance gets a copy of its operator, rendered against the run's context (dag, dag_run, run_id,
logical_date, ds, ds_nodash, ts, ts_nodash, data_interval_start/end, params with run_conf over the DAG's
params, task, ti/task_instance), then execute(context); a return value must be JSON-serialisable (Airflow's
default XCom backend) and becomes the task instance's XCom. A task's exception fails it, is logged, and stays
on the stand-in task instance as `.exception` (a stand-in attribute, for tests' messages). No retries."""
import copy
import datetime
import json
import logging

import jinja2
import jinja2.sandbox

from airflow.models.baseoperator import MappedOperator, _with_default_args

log = logging.getLogger("airflow.models.dag")


class DagContext:
    _stack = []

    @classmethod
    def push(cls, dag):
        cls._stack.append(dag)

    @classmethod
    def pop(cls):
        cls._stack.pop()

    @classmethod
    def get_current_dag(cls):
        return cls._stack[-1] if cls._stack else None


class DAG:
    def __init__(self, dag_id, description=None, schedule=None, start_date=None, end_date=None,
                 default_args=None, params=None, catchup=False, tags=None, doc_md=None, max_active_runs=16,
                 max_active_tasks=16, dagrun_timeout=None, template_undefined=jinja2.StrictUndefined,
                 user_defined_macros=None, user_defined_filters=None, is_paused_upon_creation=None):
        self.dag_id = dag_id
        self.description = description
        self.schedule = schedule
        self.start_date = start_date
        self.end_date = end_date
        self.default_args = dict(default_args or {})
        self.params = dict(params or {})
        self.catchup = catchup
        self.tags = list(tags or [])
        self.doc_md = doc_md
        self.max_active_runs = max_active_runs
        self.max_active_tasks = max_active_tasks
        self.dagrun_timeout = dagrun_timeout
        self.template_undefined = template_undefined
        self.user_defined_macros = user_defined_macros or {}
        self.user_defined_filters = user_defined_filters or {}
        self.task_dict = {}

    def __enter__(self):
        DagContext.push(self)
        return self

    def __exit__(self, *exc):
        DagContext.pop()

    def add_task(self, task):
        if task.task_id in self.task_dict:
            raise ValueError(f"Task id '{task.task_id}' has already been added to the DAG")
        self.task_dict[task.task_id] = task

    @property
    def tasks(self):
        return list(self.task_dict.values())

    @property
    def task_ids(self):
        return list(self.task_dict)

    def get_task(self, task_id):
        return self.task_dict[task_id]

    def get_template_env(self):
        env = jinja2.sandbox.SandboxedEnvironment(undefined=self.template_undefined, cache_size=0,
                                                  extensions=["jinja2.ext.do"])
        env.globals.update(self.user_defined_macros)
        env.filters.update(self.user_defined_filters)
        return env

    def topological_sort(self):
        """Tasks with every task before those downstream of it (ties: the order they were added)."""
        done, order = set(), []
        pending = list(self.task_dict.values())
        while pending:
            ready = [t for t in pending if t.upstream_task_ids <= done]
            if not ready:
                raise ValueError(f"DAG {self.dag_id} has a cycle among {[t.task_id for t in pending]}")
            for t in ready:
                order.append(t)
                done.add(t.task_id)
                pending.remove(t)
        return order

    def test(self, logical_date=None, run_conf=None, execution_date=None):
        logical_date = logical_date or execution_date or datetime.datetime.now(datetime.timezone.utc)
        run = DagRun(self, f"manual__{logical_date.isoformat()}", logical_date, dict(run_conf or {}))
        params = dict(self.params)
        params.update(run.conf)
        for task in self.topological_sort():
            upstream = [ti for ti in run.tis if ti.task_id in task.upstream_task_ids]
            if any(ti.state != "success" for ti in upstream):
                run.tis.append(TaskInstance(run, task.task_id, -1, state="upstream_failed"))
                continue
            if isinstance(task, MappedOperator):
                for index, kwargs in enumerate(task.expand_kwargs_list()):
                    op = task.operator_class(**_with_default_args(task.operator_class, kwargs, self))
                    op.dag = self
                    self._run_task_instance(run, op, index, params)
            else:
                self._run_task_instance(run, copy.copy(task), -1, params)
        run.state = "success" if all(ti.state == "success" for ti in run.tis) else "failed"
        return run

    def _run_task_instance(self, run, op, map_index, params):
        ti = TaskInstance(run, op.task_id, map_index)
        run.tis.append(ti)
        d = run.logical_date
        context = {
            "dag": self, "dag_run": run, "run_id": run.run_id, "logical_date": d, "execution_date": d,
            "ds": d.strftime("%Y-%m-%d"), "ds_nodash": d.strftime("%Y%m%d"), "ts": d.isoformat(),
            "ts_nodash": d.strftime("%Y%m%dT%H%M%S"), "data_interval_start": d, "data_interval_end": d,
            "params": params, "task": op, "ti": ti, "task_instance": ti, "test_mode": True,
        }
        try:
            op.render_template_fields(context)
            result = op.execute(context)
            if op.do_xcom_push and result is not None:
                json.dumps(result)  # Airflow's default XCom backend stores JSON
                ti.xcom_push("return_value", result)
            ti.state = "success"
        except Exception as e:  # a failed task fails its instance, not the run of the others
            log.exception("Task %s (map index %s) failed", op.task_id, map_index)
            ti.state = "failed"
            ti.exception = e


class DagRun:
    def __init__(self, dag, run_id, logical_date, conf):
        self.dag_id = dag.dag_id
        self.run_id = run_id
        self.logical_date = logical_date
        self.conf = conf
        self.state = "running"
        self.tis = []
        self.xcoms = {}

    def get_task_instances(self):
        return list(self.tis)

    def get_task_instance(self, task_id, map_index=-1):
        for ti in self.tis:
            if ti.task_id == task_id and ti.map_index == map_index:
                return ti
        return None


class TaskInstance:
    def __init__(self, run, task_id, map_index, state=None):
        self._run = run
        self.dag_id = run.dag_id
        self.run_id = run.run_id
        self.task_id = task_id
        self.map_index = map_index
        self.try_number = 1
        self.state = state
        self.exception = None

    def xcom_push(self, key, value):
        self._run.xcoms[(self.task_id, self.map_index, key)] = value

    def xcom_pull(self, task_ids=None, key="return_value", map_indexes=None):
        """One task id: its value (a mapped task's: the list over its map indexes); a list of ids: a list."""
        def pull(task_id):
            if map_indexes is not None:
                return self._run.xcoms.get((task_id, map_indexes, key))
            found = sorted((i, v) for (t, i, k), v in self._run.xcoms.items() if t == task_id and k == key)
            if found and found[0][0] >= 0:
                return [v for _, v in found]
            return found[0][1] if found else None

        if isinstance(task_ids, str):
            return pull(task_ids)
        return [pull(t) for t in task_ids]

    def __repr__(self):
        return f"<TaskInstance: {self.dag_id}.{self.task_id} map_index={self.map_index} {self.state}>"
