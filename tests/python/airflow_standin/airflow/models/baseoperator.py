"""airflow.models.baseoperator (stand-in): BaseOperator and dynamic task mapping (partial().expand()).

As Airflow documents them:
- an operator is constructed with keyword arguments; task_id is required; arguments BaseOperator does not know
  are an error ("Invalid arguments were passed to ..."); inside `with DAG(...)` it joins that DAG, and the
  DAG's default_args fill constructor parameters that were not given;
- template_fields names the attributes rendered with Jinja against the task's context before execute()
  (render_template_fields); strings are rendered, lists, tuples, sets and dicts recursively, anything else is
  left as it is; rendering gives strings (a DAG's render_template_as_native_obj is not here);
- self.log is the task's logger; execute(context)'s return value becomes the task's XCom ("return_value");
- Op.partial(task_id=..., **constant).expand(name=[values...]) is one mapped task: one task instance per
  value (per combination for several names), map_index 0, 1, ...; expand takes lists, tuples or dicts of
  literal values here (XComArgs are not in the stand-in);
- a >> b, a << b, [a, b] >> c set dependencies."""
import inspect
import itertools

import jinja2
import jinja2.sandbox

from airflow.exceptions import AirflowException
from airflow.utils.log.logging_mixin import LoggingMixin

# BaseOperator's own arguments (Airflow's, those a DAG file commonly sets).
_BASE_ARGS = frozenset({
    "task_id", "owner", "email", "email_on_retry", "email_on_failure", "retries", "retry_delay",
    "retry_exponential_backoff", "max_retry_delay", "start_date", "end_date", "depends_on_past",
    "wait_for_downstream", "dag", "params", "default_args", "priority_weight", "weight_rule", "queue", "pool",
    "pool_slots", "execution_timeout", "on_execute_callback", "on_failure_callback", "on_success_callback",
    "on_retry_callback", "trigger_rule", "max_active_tis_per_dag", "executor_config", "do_xcom_push",
    "doc", "doc_md", "doc_rst", "doc_json", "doc_yaml", "task_display_name",
})


def _init_parameters(cls):
    """Every keyword parameter of cls's constructors, base classes included."""
    names = set(_BASE_ARGS)
    for klass in cls.__mro__:
        init = klass.__dict__.get("__init__")
        if init is None:
            continue
        for p in inspect.signature(init).parameters.values():
            if p.kind in (p.KEYWORD_ONLY, p.POSITIONAL_OR_KEYWORD) and p.name != "self":
                names.add(p.name)
    return names


def _with_default_args(cls, kwargs, dag):
    default_args = dict(getattr(dag, "default_args", None) or {})
    default_args.update(kwargs.pop("default_args", None) or {})
    accepted = _init_parameters(cls)
    merged = {k: v for k, v in default_args.items() if k in accepted}
    merged.update(kwargs)
    return merged


class _OperatorMeta(type):
    def __call__(cls, *args, **kwargs):
        from airflow.models.dag import DagContext

        dag = kwargs.get("dag") or DagContext.get_current_dag()
        return super().__call__(*args, **_with_default_args(cls, kwargs, dag))


class DependencyMixin:
    def _deps_init(self):
        self.upstream_task_ids = set()
        self.downstream_task_ids = set()

    def set_downstream(self, others):
        for other in others if isinstance(others, (list, tuple)) else [others]:
            self.downstream_task_ids.add(other.task_id)
            other.upstream_task_ids.add(self.task_id)

    def set_upstream(self, others):
        for other in others if isinstance(others, (list, tuple)) else [others]:
            other.set_downstream(self)

    def __rshift__(self, other):
        self.set_downstream(other)
        return other

    def __lshift__(self, other):
        self.set_upstream(other)
        return other

    def __rrshift__(self, other):  # [a, b] >> self
        self.set_upstream(other)
        return self

    def __rlshift__(self, other):  # [a, b] << self
        self.set_downstream(other)
        return self


class BaseOperator(DependencyMixin, LoggingMixin, metaclass=_OperatorMeta):
    template_fields = ()
    template_ext = ()
    template_fields_renderers = {}

    def __init__(self, *, task_id, dag=None, retries=0, do_xcom_push=True, params=None, **kwargs):
        unknown = set(kwargs) - _BASE_ARGS
        if unknown:
            raise AirflowException(
                f"Invalid arguments were passed to {type(self).__name__} (task_id: {task_id}). "
                f"Invalid arguments were:\n**kwargs: { {k: kwargs[k] for k in sorted(unknown)} }")
        from airflow.models.dag import DagContext

        self._deps_init()
        self.task_id = task_id
        self.retries = retries
        self.do_xcom_push = do_xcom_push
        self.params = dict(params or {})
        for name, value in kwargs.items():
            setattr(self, name, value)
        self.dag = dag or DagContext.get_current_dag()
        if self.dag is not None:
            self.dag.add_task(self)

    @property
    def log(self):
        cls = type(self)
        import logging

        return logging.getLogger(f"airflow.task.operators.{cls.__module__}.{cls.__name__}")

    def execute(self, context):
        raise NotImplementedError

    def on_kill(self):
        """Called when the task is killed; override to clean up."""

    # Templates

    def get_template_env(self):
        if self.dag is not None:
            return self.dag.get_template_env()
        return jinja2.sandbox.SandboxedEnvironment(undefined=jinja2.StrictUndefined, cache_size=0)

    def render_template_fields(self, context, jinja_env=None):
        env = jinja_env or self.get_template_env()
        for name in self.template_fields:
            setattr(self, name, self.render_template(getattr(self, name), context, env))

    def render_template(self, content, context, jinja_env=None, seen_oids=None):
        env = jinja_env or self.get_template_env()
        if isinstance(content, str):
            return env.from_string(content).render(**context)
        if isinstance(content, tuple):
            return tuple(self.render_template(v, context, env) for v in content)
        if isinstance(content, list):
            return [self.render_template(v, context, env) for v in content]
        if isinstance(content, set):
            return {self.render_template(v, context, env) for v in content}
        if isinstance(content, dict):
            return {k: self.render_template(v, context, env) for k, v in content.items()}
        return content

    # Dynamic task mapping

    @classmethod
    def partial(cls, **kwargs):
        if "task_id" not in kwargs:
            raise TypeError("partial() missing required argument: 'task_id'")
        return OperatorPartial(cls, kwargs)

    def __repr__(self):
        return f"<Task({type(self).__name__}): {self.task_id}>"


class OperatorPartial:
    def __init__(self, operator_class, kwargs):
        from airflow.models.dag import DagContext

        self.operator_class = operator_class
        self.kwargs = dict(kwargs)
        self.dag = self.kwargs.pop("dag", None) or DagContext.get_current_dag()
        accepted = _init_parameters(operator_class)
        unknown = set(self.kwargs) - accepted - {"default_args"}
        if unknown:
            raise TypeError(f"{operator_class.__name__}.partial() got unexpected keyword arguments "
                            f"{sorted(unknown)}")

    def expand(self, **mapped):
        if not mapped:
            raise TypeError("no arguments to expand against")
        accepted = _init_parameters(self.operator_class)
        for name, values in mapped.items():
            if name not in accepted or name == "task_id":
                raise TypeError(f"{self.operator_class.__name__}.expand() got an unexpected keyword argument "
                                f"{name!r}")
            if name in self.kwargs:
                raise TypeError(f"{name!r} was given to both partial() and expand()")
            if not isinstance(values, (list, tuple, dict)):
                raise ValueError(f"expand() argument {name!r} must be a list, a tuple or a dict, "
                                 f"not {type(values).__name__}")
        return MappedOperator(self.operator_class, self.kwargs, mapped, self.dag)


class MappedOperator(DependencyMixin):
    """One task of the DAG that runs once per map index."""

    def __init__(self, operator_class, partial_kwargs, mapped_kwargs, dag):
        self._deps_init()
        self.operator_class = operator_class
        self.partial_kwargs = partial_kwargs
        self.mapped_kwargs = mapped_kwargs
        self.task_id = partial_kwargs["task_id"]
        self.dag = dag
        if dag is not None:
            dag.add_task(self)

    def expand_kwargs_list(self):
        """The constructor keyword arguments of each map index, in map index order."""
        names = list(self.mapped_kwargs)
        value_lists = [list(v.items()) if isinstance(v, dict) else list(v)
                       for v in self.mapped_kwargs.values()]
        return [dict(self.partial_kwargs, **dict(zip(names, combo)))
                for combo in itertools.product(*value_lists)]

    def __repr__(self):
        return f"<Mapped({self.operator_class.__name__}): {self.task_id}>"
