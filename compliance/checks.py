"""System checks: the registered rules must match the catalogue exactly."""

from __future__ import annotations

import importlib.util
from collections import Counter

from django.apps import apps
from django.contrib import admin
from django.core import checks

from . import catalogue
from . import requirements as reqs
from .catalogue import Severity, Target
from .rejudge import RejudgeAdmin, rule_read_models
from .rules import Registry, registry, same_pk


def domains_with_rules() -> set[str]:
    """Installed apps that ship a rules module: their catalogue rules must all exist."""
    return {
        config.label for config in apps.get_app_configs()
        if importlib.util.find_spec(f"{config.name}.rules") is not None
    }


def rule_errors(reg: Registry, domains: set[str] | None = None,
                pending: frozenset[str] = catalogue.PENDING) -> list[checks.CheckMessage]:
    if domains is None:
        domains = domains_with_rules()
    errors: list[checks.CheckMessage] = []
    counts = Counter(rule_id for rule_id, _cls in reg.registrations)
    for rule_id, n in sorted(counts.items()):
        if n > 1:
            where = "、".join(f"{cls.__module__}.{cls.__qualname__}" for rid, cls in reg.registrations if rid == rule_id)
            errors.append(checks.Error(f"规则编号 {rule_id} 被注册了 {n} 次：{where}。",
                                       hint="每条规则编号只能有一个实现。", id="compliance.E001"))
    for rule_id, cls in reg.registrations:
        if rule_id not in catalogue.RULES:
            errors.append(checks.Error(f"规则 {rule_id!r}（{cls.__module__}.{cls.__qualname__}）不在条款目录中。",
                                       hint="规则编号须与 compliance/catalogue.py（docs/clauses.md）完全一致。",
                                       id="compliance.E002", obj=cls))
            continue
        spec = catalogue.RULES[rule_id]
        if cls.target != spec.target or cls.clause != spec.clause:
            errors.append(checks.Error(f"规则 {rule_id} 的措施或对象与目录不一致。", id="compliance.E004", obj=cls))
        if cls.target not in Target.ALL or cls.severity not in Severity.ALL:
            errors.append(checks.Error(f"规则 {rule_id} 的对象或严重程度无效。", id="compliance.E005", obj=cls))
    for spec in catalogue.RULES.values():
        for name, source in spec.shared.items():
            if source not in catalogue.RULES or name not in catalogue.RULES[source].params:
                errors.append(checks.Error(
                    f"规则 {spec.id} 的参数“{name}”声明与 {source} 共用，但 {source} 没有这个参数。",
                    hint="共用参数只能指向另一条规则自己的参数（一处数值）。", id="compliance.E006"))
            elif name in spec.params:
                errors.append(checks.Error(
                    f"规则 {spec.id} 的参数“{name}”既自己设了默认值，又声明与 {source} 共用。",
                    hint="一个数值只有一个来源：删去本规则的默认值。", id="compliance.E006"))
    for spec in catalogue.RULES.values():
        if spec.domain not in domains or spec.id in reg:
            continue
        if spec.id in pending:
            errors.append(checks.Warning(f"规则 {spec.id}（措施{spec.numeral}）尚未实现（catalogue.PENDING）。",
                                         id="compliance.W003"))
        else:
            errors.append(checks.Error(f"条款目录中的规则 {spec.id}（措施{spec.numeral}）没有实现，而 {spec.domain} 应用已安装。",
                                       hint=f"在 {spec.domain}/rules.py 中用 @register 实现它。", id="compliance.E003"))
    return errors


def mapper_errors(reg: Registry) -> list[checks.CheckMessage]:
    """A mapper that may fan out from one changed row to many targets must declare the columns it watches
    (``@watching``): undeclared, every edit of the row (a community's 户数) re-judges all of them."""
    errors: list[checks.CheckMessage] = []
    for rule in reg.all():
        for model, mapper in rule.read_models().items():
            if mapper is same_pk and model._meta.label == "communities.Community":
                errors.append(checks.Error(
                    f"规则 {rule.id} 读取社区本身却没有声明读取哪些列：社区的任何修改（如户数）都会重新判定它。",
                    hint="用 communities.rules.community_columns(\"列名\", ...) 声明规则读取的社区列。",
                    id="compliance.E010", obj=type(rule)))
                continue
            if getattr(mapper, "fields", None) is not None or getattr(mapper, "one_to_one", False):
                continue
            name = getattr(mapper, "__qualname__", repr(mapper))
            errors.append(checks.Error(
                f"规则 {rule.id} 读取 {model._meta.label} 的映射 {name} 可能由一行牵动多个对象，却没有声明它读取哪些列。",
                hint="用 @watching(\"列名\", ...) 声明映射依据的列；每行至多对应一个对象的映射用 @one_to_one 标明。",
                id="compliance.E008", obj=type(rule)))
    return errors


def admin_errors(site=None, read: set | None = None) -> list[checks.CheckMessage]:
    """Every admin of a model a rule reads (itself or in an inline) re-judges its edits: it uses the one hook,
    ``compliance.rejudge.RejudgeAdmin``. No signal re-judges a bare save, so an admin without it would change
    the data under the findings and leave them standing until the night's sweep."""
    site = site or admin.site
    read = rule_read_models() if read is None else read
    errors: list[checks.CheckMessage] = []
    for model, model_admin in site._registry.items():
        reached = [m for m in (model, *(inline.model for inline in model_admin.inlines)) if m in read]
        if reached and not isinstance(model_admin, RejudgeAdmin):
            names = "、".join(m._meta.label for m in reached)
            errors.append(checks.Error(
                f"管理后台 {type(model_admin).__qualname__} 编辑规则读取的 {names}，却不会触发重新判定。",
                hint="让它继承 compliance.rejudge.RejudgeAdmin（放在基类首位）。", id="compliance.E009",
                obj=type(model_admin)))
    return errors


def check_rules(app_configs=None, **kwargs) -> list[checks.CheckMessage]:
    return rule_errors(registry) + mapper_errors(registry) + requirement_check_errors() + admin_errors()


def requirement_check_errors(requirements=None) -> list[checks.CheckMessage]:
    """Every requirement of the policy has a status, and every rule answers to one (compliance/requirements.py)."""

    found = reqs.requirement_errors(reqs.REQUIREMENTS if requirements is None else requirements)
    return [checks.Error(f"条款要求 {where}：{what}。", hint="在 compliance/requirements.py 中补全。",
                         id="compliance.E007") for where, what in found]
