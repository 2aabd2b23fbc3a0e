"""Identity providers: ``local`` (users and passwords kept here) and ``oidc`` (an issuer).

The entry-point modules (:mod:`.local_plugin`, :mod:`.oidc_plugin`) import cleanly without
the ``identity`` extra; the providers import PyJWT, argon2 and httpx when they are built.
"""

from __future__ import annotations

__all__: list[str] = []
