"""A small multilingual site on 127.0.0.1 for --lang: the declared <html lang> and the text agree, disagree,
or one of them is missing. Real prose, so the detector is judged on what it meets on the web."""

from __future__ import annotations

from optout_site import SignalSite

ENGLISH = (
    "The city library opens its reading rooms every morning at nine. Visitors can borrow up to ten books at a "
    "time, and the staff are glad to help anyone who is looking for something in particular. On Saturdays the "
    "children's corner hosts a story hour, and in the evening there are talks about local history and science."
)
GERMAN = (
    "Die Stadtbibliothek öffnet ihre Lesesäle jeden Morgen um neun Uhr. Besucher können bis zu zehn Bücher auf "
    "einmal ausleihen, und die Mitarbeiter helfen gern allen, die etwas Bestimmtes suchen. Am Samstag gibt es in "
    "der Kinderecke eine Vorlesestunde, und am Abend finden Vorträge über die Geschichte der Stadt und über die "
    "Naturwissenschaften statt. Wer einen Leseausweis beantragen möchte, bringt bitte einen gültigen Ausweis mit."
)
FRENCH = (
    "La bibliothèque municipale ouvre ses salles de lecture tous les matins à neuf heures. Les visiteurs peuvent "
    "emprunter jusqu'à dix livres à la fois, et le personnel aide volontiers tous ceux qui cherchent quelque chose "
    "de précis. Le samedi, le coin des enfants accueille une heure du conte, et le soir il y a des conférences."
)
# A page script that lies to anything reading the page from the page's own JavaScript world.
LYING_SCRIPT = (
    """<script>
Element.prototype.getAttribute = function () { return "de"; };
Object.defineProperty(HTMLElement.prototype, "innerText", {get() { return %r.repeat(3); }});
</script>"""
    % GERMAN
)


def html(lang: str | None, body: str, head: str = "") -> tuple[dict[str, str], bytes]:
    attr = f' lang="{lang}"' if lang is not None else ""
    doc = f"<!doctype html><html{attr}><head><meta charset=utf-8>{head}</head><body>{body}</body></html>"
    return {}, doc.encode()


PAGES = {
    # the home page is English, and the only way to the others
    "/index.html": html(
        "en",
        f"<p>{ENGLISH}</p><ul>"
        + "".join(
            f'<li><a href="{p}">{p}</a></li>'
            for p in ("/de.html", "/liar.html", "/short-de.html", "/none.html", "/scripted.html")
        )
        + "</ul>",
    ),
    "/de.html": html("de-DE", f"<h1>Willkommen</h1><p>{GERMAN}</p>"),
    "/liar.html": html("de", f"<p>{FRENCH}</p>"),  # says German, is French: the text decides
    "/short-de.html": html("DE", "<p>Öffnungszeiten: Montag bis Freitag</p>"),  # too short to tell: lang decides
    "/none.html": html(None, "<p>Menu 1 2 3</p>"),  # neither
    "/scripted.html": html("en", f"<p>{ENGLISH}</p>", head=LYING_SCRIPT),  # English, whatever its script says
}


def lang_site() -> SignalSite:
    return SignalSite(PAGES)
