"""Class games held by a server: a class of twenty on their own laptops.

The teacher starts a game (``sim play PACK --serve``, or the dashboard's Play tab); each
team joins from its own browser with a join code or a link for its seat; a facilitator's
screen and a projector's screen join the same game. The game lives in an embedded
SQLite database (:mod:`.store`), so a reload, a second browser on the same seat and a
server restart all see one game; who may do what is decided by the seat a token names
(:mod:`.service`); the screens are server-rendered pages with a small polling script
(:mod:`.web`, :mod:`.pages`, ``static/``).

Why a small Starlette app rather than the Solara dashboard: a Solara page keeps its state
per browser session (a websocket kernel), which is what made two laptops on one saved
game play two copies; a class game needs the opposite — one state per game, many seats,
each with its own rights. Here every request names its seat by a token, every read comes
from the database and every write is a transaction with a turn (and, for a team's
ticks, the seat's version) check, so the server holds no per-browser state at all and
tests drive it with plain HTTP. Starlette and uvicorn come with the dashboard extra.

The engine is :class:`sim.play.game.Game`; this package adds seats, secret simultaneous
moves, the umpire's rulings, channels and the timer. Nothing below it imports it; the
dashboard mounts its app (:func:`.web.make_app`) at ``/class``.
"""

from .service import BadRequest, Classroom, Clock, Forbidden, ManualClock
from .store import Conflict, Store

__all__ = ["BadRequest", "Classroom", "Clock", "Conflict", "Forbidden", "ManualClock", "Store"]
