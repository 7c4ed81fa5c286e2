"""The deployment's configuration file: where alerts go, what may be enforced,
where the engine keeps its state, and what the live worker reads.

Without a file the embedded default applies: alerts on the terminal, every
remediation a dry run, state in memory.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from adapters.alerting.config import AlertingConfig
from adapters.inventory.pull import InventoryConfig
from adapters.remediation.config import RemediationConfig
from adapters.state.config import StateConfig
from dreamcatcher.httpd import HttpConfig
from dreamcatcher.logsetup import LoggingConfig
from dreamcatcher.sourceconfig import ClockConfig, OutboxConfig, SourcesConfig
from engine.yamlsource import load_model


class DeploymentConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    alerting: AlertingConfig = Field(default_factory=AlertingConfig)
    remediation: RemediationConfig = Field(default_factory=RemediationConfig)
    audit_log: Path | None = None
    state: StateConfig = Field(default_factory=StateConfig)
    # the live worker (``dreamcatcher run``)
    sources: SourcesConfig = Field(default_factory=SourcesConfig)
    inventory: InventoryConfig = Field(default_factory=InventoryConfig)
    clock: ClockConfig = Field(default_factory=ClockConfig)
    outbox: OutboxConfig = Field(default_factory=OutboxConfig)
    #: /metrics, /healthz, /readyz (none unless configured)
    http: HttpConfig | None = None
    logging: LoggingConfig = Field(default_factory=LoggingConfig)
    #: rule files or folders (default: the shipped rule pack)
    rules: list[Path] = Field(default_factory=list)


def load_config(path: Path) -> DeploymentConfig:
    """Validate the file; a mistake raises ``SourceError`` with its line and field."""
    return load_model(path, DeploymentConfig, "configuration")
