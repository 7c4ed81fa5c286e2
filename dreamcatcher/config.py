"""The deployment's configuration file: where alerts go and what may be enforced.

Without a file the embedded default applies: alerts on the terminal, every
remediation a dry run.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from adapters.alerting.config import AlertingConfig
from adapters.remediation.config import RemediationConfig
from engine.yamlsource import SourceError, load_documents


class DeploymentConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    alerting: AlertingConfig = Field(default_factory=AlertingConfig)
    remediation: RemediationConfig = Field(default_factory=RemediationConfig)
    audit_log: Path | None = None


def load_config(path: Path) -> DeploymentConfig:
    """Validate the file; a mistake raises ``SourceError`` with its line and field."""
    docs = load_documents(path)
    if len(docs) != 1:
        raise SourceError(str(path), 1, "", "the configuration is one YAML document")
    doc = docs[0]
    try:
        return DeploymentConfig.model_validate(doc.data or {})
    except ValidationError as exc:
        err = exc.errors()[0]
        loc = tuple(p for p in err["loc"] if not (isinstance(p, str) and "[" in p))
        raise doc.error(loc, err["msg"]) from None
