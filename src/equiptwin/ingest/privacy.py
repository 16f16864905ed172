"""Personal data never reaches the store, the archive or the logs in clear.

Patient references are replaced by a keyed hash (HMAC-SHA256 with the site secret
read from the environment variable named by ``site.secret_env``). Without a secret
the reference is dropped (stored as NULL): an unkeyed hash of a short identifier can
be reversed by trying every candidate, so it would not be anonymous. Names and birth
dates are never read; free text (event parameters, quarantined raw lines) is scrubbed.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
from dataclasses import dataclass

#: DICOM person names (``DOE^JANE``) wherever they appear in free text.
_DICOM_NAME = re.compile(r"\b[A-Za-z][\w'-]*\^[\w'^-]*")
_DATE_LIKE = re.compile(r"\b(?:birth_date|dob|birthdate)=\S*", re.IGNORECASE)


@dataclass(frozen=True)
class Privacy:
    """The privacy rules of one run.

    Parameters
    ----------
    secret : bytes or None
        Site secret keying the patient-reference hash; ``None`` drops references.
    drop_params : tuple of str
        Event parameter names whose values are personal data.
    """

    secret: bytes | None
    drop_params: tuple[str, ...]

    @classmethod
    def from_env(cls, secret_env: str, drop_params: tuple[str, ...]) -> Privacy:
        """Read the site secret from the environment variable ``secret_env``."""
        value = os.environ.get(secret_env, "")
        return cls(value.encode("utf-8") if value else None, drop_params)

    def patient_ref(self, value: str) -> str | None:
        """Return the keyed hash (64 hex digits) of a patient reference, or ``None``."""
        if not value or self.secret is None:
            return None
        return hmac.new(self.secret, value.encode("utf-8"), hashlib.sha256).hexdigest()

    def params_pattern(self) -> str:
        """Return a regular expression matching the personal ``key=value`` parameters."""
        names = "|".join(re.escape(n) for n in self.drop_params)
        return rf"(?:^|[ ;])(?:{names})=[^ ;]*"

    def scrub(self, text: str) -> str:
        """Remove personal parameters and person names from free text (quarantined lines)."""
        text = re.sub(self.params_pattern(), " ", text)
        text = _DATE_LIKE.sub("", text)
        return _DICOM_NAME.sub("<name>", text)
