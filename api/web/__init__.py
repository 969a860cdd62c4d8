"""The web console (Chinese, server-rendered) for matchmakers, evaluators and institutions.

`router` carries every page, the static files and `/`; `api.main` includes it like the API's
routers. Pages call the same services and apply the same role rules as the API.
"""

from api.web.routes import router

__all__ = ["router"]
