"""Finding, loading and listing plugins.

Plugins come from the entry-point group ``ais_fw``; the builtins are declared there in
our own pyproject exactly as a third-party package declares its own. A plugin that
fails to import is reported and skipped (``strict=True`` raises instead).
"""
from __future__ import annotations

import re
import traceback
from dataclasses import dataclass, field
from importlib.metadata import EntryPoint, entry_points
from typing import Any

import pluggy

from . import PROJECT_NAME, hookspecs
from .errors import PluginError, UnknownNameError

ENTRY_POINT_GROUP = "ais_fw"


@dataclass(frozen=True)
class PluginSource:
    """Where a plugin module came from."""

    plugin: str  # entry-point name, or the name given to register_module()
    module: str
    distribution: str
    version: str


@dataclass(frozen=True)
class PluginFailure:
    """A plugin that could not be loaded or whose hook raised."""

    plugin: str
    module: str
    distribution: str
    version: str
    error: str


@dataclass(frozen=True)
class RegisteredSpec:
    """A spec together with the plugin that provided it."""

    spec: Any
    source: PluginSource


@dataclass
class PluginRegistry:
    """Every spec the loaded plugins provide, by kind and name, plus the failures."""

    manager: pluggy.PluginManager
    sources: dict[str, PluginSource] = field(default_factory=dict)
    load_failures: list[PluginFailure] = field(default_factory=list)
    _hook_failures: list[PluginFailure] = field(default_factory=list)
    _specs: dict[str, dict[str, RegisteredSpec]] | None = None

    @property
    def failures(self) -> list[PluginFailure]:
        """Plugins that failed to load, and hooks that raised or returned something else than specs."""
        self._collected()
        return [*self.load_failures, *self._hook_failures]

    def register_module(self, module: Any, source: PluginSource) -> None:
        """Register an imported plugin module (entry points do this for you).

        Raises :class:`PluginError` when pluggy rejects it (a hook with wrong arguments,
        a name already taken); a function marked ``@hookimpl`` that is not an ais-fw hook
        is recorded as a failure of the plugin.
        """
        try:
            self.manager.register(module, name=source.plugin)
        except (ValueError, pluggy.PluginValidationError) as exc:
            raise PluginError(f"plugin '{source.plugin}' cannot be registered: {exc}",
                              "see `ais-fw plugins`; hooks are listed in ais_framework.hookspecs") from exc
        self.sources[source.plugin] = source
        self._specs = None
        for caller in self.manager.get_hookcallers(module) or []:
            if not caller.has_spec():
                self.load_failures.append(_problem(source, f"'{caller.name}' is not an ais-fw hook"))

    def specs(self, kind: str) -> dict[str, RegisteredSpec]:
        """All registered specs of one kind, by name."""
        return self._collected().get(kind, {})

    def get(self, kind: str, name: str) -> Any:
        """The spec of one kind and name, or an error listing the known names."""
        found = self.specs(kind)
        if name not in found:
            known = ", ".join(sorted(found)) or "none"
            raise UnknownNameError(
                f"unknown {kind.replace('_', ' ')} '{name}'",
                f"known: {known}; `ais-fw plugins` lists every plugin",
            )
        return found[name].spec

    def all_specs(self) -> list[RegisteredSpec]:
        kinds = [self.specs(k) for k in hookspecs.HOOK_KINDS.values()]
        return [entry for by_name in kinds for entry in by_name.values()]

    def _collected(self) -> dict[str, dict[str, RegisteredSpec]]:
        if self._specs is None:
            self._hook_failures = []  # collected afresh each time, never twice
            self._specs = self._collect()
        return self._specs

    def _collect(self) -> dict[str, dict[str, RegisteredSpec]]:
        collected: dict[str, dict[str, RegisteredSpec]] = {}
        for hook_name, kind in hookspecs.HOOK_KINDS.items():
            by_name = collected.setdefault(kind, {})
            for impl in getattr(self.manager.hook, hook_name).get_hookimpls():
                source = self.sources.get(impl.plugin_name) or _unknown_source(impl.plugin_name)
                for spec in self._call(impl, source, hook_name, kind):
                    self._add(by_name, kind, RegisteredSpec(spec, source))
        return collected

    def _call(self, impl: Any, source: PluginSource, hook: str, kind: str) -> list:
        try:
            returned = list(impl.function() or [])
        except Exception as exc:  # a broken plugin must not take the framework down
            self._hook_failures.append(_failure(source, exc, f"{hook} raised "))
            return []
        specs = [item for item in returned if _is_spec(item, kind)]
        for item in returned:
            if not _is_spec(item, kind):
                error = f"{hook} returned a {type(item).__name__}, not a {kind} spec"
                self._hook_failures.append(_problem(source, error))
        return specs

    @staticmethod
    def _add(by_name: dict, kind: str, entry: RegisteredSpec) -> None:
        name = entry.spec.name
        if name in by_name:
            first = by_name[name].source
            raise PluginError(
                f"two plugins claim the {kind.replace('_', ' ')} name '{name}': "
                f"{_describe(first)} and {_describe(entry.source)}",
                "uninstall one of them or ask its author to rename it",
            )
        by_name[name] = entry


def _is_spec(item: Any, kind: str) -> bool:
    return getattr(item, "kind", None) == kind and isinstance(getattr(item, "name", None), str)


def _describe(source: PluginSource) -> str:
    return f"'{source.plugin}' ({source.distribution} {source.version}, module {source.module})"


def _unknown_source(name: str) -> PluginSource:
    return PluginSource(plugin=name, module="?", distribution="?", version="?")


def _failure(source: PluginSource, exc: BaseException, prefix: str = "") -> PluginFailure:
    last = traceback.format_exception_only(type(exc), exc)[-1].strip()
    return _problem(source, prefix + last)


def _problem(source: PluginSource, error: str) -> PluginFailure:
    return PluginFailure(source.plugin, source.module, source.distribution, source.version, error)


def _source_of(ep: EntryPoint) -> PluginSource:
    dist = getattr(ep, "dist", None)
    name = dist.metadata["Name"] if dist is not None else "?"
    version = dist.version if dist is not None else "?"
    return PluginSource(plugin=ep.name, module=ep.value, distribution=name, version=version)


def _load_entry_points(registry: PluginRegistry) -> None:
    seen: dict[str, PluginSource] = {}
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        source = _source_of(ep)
        if _already_seen(seen, source):
            continue
        seen[ep.name] = source
        try:
            registry.register_module(ep.load(), source)
        except Exception as exc:  # import errors, and anything a plugin's import raises
            registry.load_failures.append(_failure(source, exc))


def _already_seen(seen: dict[str, PluginSource], source: PluginSource) -> bool:
    """True for the same distribution found twice; two distributions using one name is an error."""
    first = seen.get(source.plugin)
    if first is None:
        return False
    if _normalise(first.distribution) == _normalise(source.distribution):
        return True
    raise PluginError(
        f"two plugins are named '{source.plugin}': {_describe(first)} and {_describe(source)}",
        "uninstall one of them or ask its author to rename the entry point",
    )


def _normalise(distribution: str) -> str:
    return re.sub(r"[-_.]+", "-", distribution).lower()


def new_registry(load_entry_points: bool = True) -> PluginRegistry:
    """A fresh registry with every hook spec added and (by default) every entry point loaded."""
    manager = pluggy.PluginManager(PROJECT_NAME)
    manager.add_hookspecs(hookspecs)
    registry = PluginRegistry(manager)
    if load_entry_points:
        _load_entry_points(registry)
    return registry


_REGISTRY: PluginRegistry | None = None


def get_registry(strict: bool = False) -> PluginRegistry:
    """The process-wide registry, loaded once. ``strict`` turns plugin failures into an error."""
    global _REGISTRY
    if _REGISTRY is None:
        _REGISTRY = new_registry()
    failures = _REGISTRY.failures
    if strict and failures:
        first = failures[0]
        more = f" (and {len(failures) - 1} more)" if len(failures) > 1 else ""
        raise PluginError(
            f"plugin '{first.plugin}' ({first.distribution} {first.version}) failed: {first.error}{more}",
            "fix or uninstall it, or run without --strict to skip it; `ais-fw plugins` lists every failure",
        )
    return _REGISTRY


def get_plugin_manager() -> pluggy.PluginManager:
    """The pluggy manager behind the process-wide registry."""
    return get_registry().manager


def reset_registry() -> None:
    """Forget the loaded plugins (tests, or after installing a plugin in a running process)."""
    global _REGISTRY
    _REGISTRY = None
