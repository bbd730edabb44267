"""Titles and bylines as readers see them: no site-name suffix, no "By", no publisher posing as author.

Pages give their title several times (JSON-LD ``headline``, ``og:title``,
``<title>``), often with the site's name glued on ("… - Golem.de",
"… | DW | 28.04.2023"): the parts that name the site or a date come off. Bylines lose their
"By"/"Von"/"Text:" and split into names in order;
a publisher's name, a profile slug or a photo credit is no author.
Measured on the fundus pages (docs/extraction.md).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable

_SEPARATOR = r"(?:[|–—·»:]{1,2}|-|::|/)"
# spaced; or a full-width bar, which Chinese and Japanese titles set unspaced ("見出し｜NHKニュース"), or an underscore
# between two letters of those scripts ("标题_新浪新闻")
_SEPARATORS = re.compile(rf"\s+{_SEPARATOR}\s+|\s*[｜︱]\s*|(?<=[^\x00-\x7f])_(?=[^\x00-\x7f])")
_TRAILING_SEPARATOR = re.compile(rf"\s*(?:{_SEPARATOR}|[｜︱_])$")
_LEADING_SEPARATOR = re.compile(rf"^(?:{_SEPARATOR}|[｜︱_])\s*")
_DATE_PART = re.compile(r"^\W*\d{1,4}[./-]\d{1,2}[./-]\d{1,4}\W*$")
_TOKEN = re.compile(r"\w+")


def _norm(text: str) -> str:
    return " ".join(_TOKEN.findall(unicodedata.normalize("NFKC", text).casefold()))


def _site_like(part: str, site_names: Iterable[str]) -> bool:
    key = _norm(part)
    if not key:
        return True
    if _DATE_PART.match(part):
        return True
    words = set(key.split())
    for name in site_names:
        name_key = _norm(name)
        if not name_key:
            continue
        if key == name_key or key in name_key or (
            len(name_key) >= 3 and name_key in key and len(words) <= len(name_key.split()) + 3
        ):
            return True
        if len(words) <= 4 and any(len(word) >= 4 for word in words & set(name_key.split())):
            return True  # "Chadashoth Israel" beside the site name "Israel Nachrichten"
    return False


def strip_site_name(title: str, site_names: Iterable[str]) -> str:
    """Drop separators and the parts after (or before) them that name the site, a section or a date."""
    site_names = [name for name in site_names if name]
    parts = _SEPARATORS.split(title)
    if len(parts) < 2:
        return title.strip()
    # from the end: "Headline | Section | Site | 28.04.2023"
    while len(parts) > 1 and _site_like(parts[-1], site_names):
        title = _TRAILING_SEPARATOR.sub("", title[: title.rfind(parts[-1])].rstrip())
        parts = parts[:-1]
    # from the start: "Site | Headline"
    if len(parts) > 1 and _site_like(parts[0], site_names):
        title = _LEADING_SEPARATOR.sub("", title[len(parts[0]) :].lstrip())
    return title.strip()


def choose_title(candidates: list[str], site_names: Iterable[str]) -> str:
    """The first title in order of trust (JSON-LD headline, <title> as trafilatura cleans it, og:title), suffixes off.

    Measured on the fundus pages: 99 of 115 titles right this way (100 with :func:`drop_confirmed_suffix`);
    preferring the visible <h1> when a metadata title confirms it gave 92, og:title first 90.
    """
    first = next((c for c in candidates if c and c.strip()), "")
    return strip_site_name(first, list(site_names)) if first else ""


def drop_confirmed_suffix(title: str, shown: Iterable[str]) -> str:
    """``title`` without a short trailing part ("… | Sport") that the page's other titles (og:title, <h1>) lack.

    A section's name glued on with a separator is no site name, so :func:`strip_site_name` keeps it;
    when another title of the same page reads the headline without it, it is no part of the headline. A title
    that another one reads whole, after a kicker or not (``<h1><span>Kicker</span>Headline</h1>``), stays whole:
    a shorter og:title is then the social version, not the headline.
    """
    keys = {_norm(text) for text in shown if text} - {""}
    separators = list(_SEPARATORS.finditer(title))
    whole = _norm(title)
    if not separators or not keys or any(key.endswith(whole) for key in keys):
        return title
    for separator in reversed(separators):  # cut at the last separator, then at the one before, ...
        if _words(title[separator.end():]) > SUFFIX_WORDS:
            break
        head = title[: separator.start()].strip()
        if _norm(head) in keys and _words(head) >= HEAD_WORDS:
            return head
    return title


SUFFIX_WORDS = 3  # a section's or site's name, not a subtitle
HEAD_WORDS = 3  # what is left is a headline, not a one-word <h1> (a logo, a kicker) that happens to match

# scripts written without spaces between words, and the letters of a word in each (an estimate: the corpora
# hold no Thai page). Korean is written with spaces: its words count as Latin ones, though Hangul is wide.
_HAN_KANA = re.compile(r"[\u3040-\u30ff\u31f0-\u31ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003134f]")
_THAI = re.compile(r"[\u0e00-\u0e7f]")
_LETTERS_TO_A_WORD = ((_HAN_KANA, 2), (_THAI, 3))


def _words(text: str) -> int:
    """Words of a text: spaced words, and in Chinese, Japanese and Thai, letters at two (three) to a word.

    Letters only: punctuation ("・", "，") and Thai's vowel and tone marks are none; full-width Latin and digits
    are Latin (NFKC).
    """
    text = unicodedata.normalize("NFKC", text)
    words = 0
    for script, per_word in _LETTERS_TO_A_WORD:
        letters = sum(1 for char in script.findall(text) if char.isalpha())
        words += -(-letters // per_word)  # rounded up: one character is a word
        text = script.sub(" ", text)
    return words + len(_TOKEN.findall(text))


# --- bylines -----------------------------------------------------------------------------------

# the longer words first: "Text und Fotos: Anna Meier" lost only "Text" and kept "und Fotos:"
# and "written by", "by the pen of" in the languages of the news: Indonesian, Scandinavian, Romance, Polish, Finnish,
# Hungarian, Turkish, Vietnamese, Hebrew, Arabic ("كتب", "wrote", only before a colon: it is "books" too)
_BY = re.compile(
    r"^\s*(?:(?:texte?|texto|testo|tekst|teksti|текст)"
    r"(?:\s*(?:und|og|och|y|e|et|and|&|ja|i)\s*(?:fotos?|photos?|bild(?:er|e)?|kuvat?|zdjęcia))?"
    # "Texto de María López", "Texte par Marie Dupont"; in lower case: "Texto De Souza" is a name
    r"(?:\s+(?-i:de|por|di|von|par|by|av|af))?"
    r"|reporting by|written by|words by|ditulis oleh|skrevet av|skrevet af|skrivet av|escrito por|redactado por"
    r"|scritto da|a cura di|écrit par|propos recueillis par|(?:ein\s+)?kommentar von|by|von|autor(?:in|ka)?|author"
    r"|kirjoittaja|par|por|di|door|av|af|fra|przez|od|napisał[a]?|oleh|penulis|yazan|yazar|írta|tác giả|от|автор"
    r"|מאת|بقلم|كتبت?(?=\s*[:：]))\s*[:：]?\s+",
    re.IGNORECASE,
)
# Indonesian, Finnish, Hungarian, Vietnamese and Polish "and" in lower case only: "Dan" is a given name
_CONJUNCTION = r"(?:and|und|og|et|y|e|i|en|ve|и|och|a|&|(?-i:dan|ja|és|và|oraz))"
# Dutch "en" is "and", French "en chef" no: "Rédactrice en chef Marie Dupont" is one writer
_AND = re.compile(rf"\s*,?\s+{_CONJUNCTION}\s+(?!chef\b)|\s*[,;/／]\s*|\s*、\s*", re.IGNORECASE)
_INITIALS = re.compile(r"\s*\((?:[\w.]{1,6})\)\s*$")
_CREDIT = re.compile(r"\((?:image|photo|foto|bild)s?:|getty images|istock|shutterstock|reuters/", re.IGNORECASE)
_SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)+$")
# an e-mail address beside the name ("홍길동 기자 hong@news.example", "Jane Doe (jdoe@post.example)") is no name
# its label and the separator before it go too ("Von Anna Meier | Kontakt: anna@zeitung.example")
_EMAIL = re.compile(r"(?:\s*[|•,;])?(?:\s*(?:e-?mail|mail|contact|kontakt|courriel|correo|이메일)\s*[:：]?)?"
                    r"\s*[(<（]?[\w.+-]+@[\w-]+(?:\.[\w-]+)+[)>）]?", re.IGNORECASE)
_DOMAIN = re.compile(
    r"\b[\w-]+\.(?:com|de|net|org|co\.uk|uk|fr|es|it|ch|at|jp|kr|no|se|dk|nl|pl|tw|in)\b", re.IGNORECASE
)


def byline_names(raw: str | Iterable[str], publisher_names: Iterable[str] = (), domains: bool = False) -> list[str]:
    """The authors' names of a byline, in order, without the publisher's; see :func:`choose_authors`."""
    values = [raw] if isinstance(raw, str) else list(raw)
    publishers = [_norm(name) for name in publisher_names if name and _norm(name)]
    names: list[str] = []
    for value in values:
        for field in _byline_fields(_plain(value or "")):
            names.extend(_field_names(field, publishers, domains, names))
    return names


def _plain(text: str) -> str:
    """A byline's text in one line, composed ("Écrit par" typed as E and an accent is the same words), without
    e-mail addresses."""
    return " ".join(_EMAIL.sub(" ", unicodedata.normalize("NFC", text)).split()).strip(" |•,;")


def _field_names(field: str, publishers: list[str], domains: bool, names: list[str]) -> list[str]:
    """The names of one byline field not among ``names`` yet."""
    found: list[str] = []
    field = _BY.sub("", field)
    if _HAN.search(field):
        field = _CJK_BRACKETS.sub(r"\1", field)
        if _CJK_PHOTO_CREDIT.search(field):
            return []
        field = _CJK_WRITTEN_BY.sub("", _CJK_REPORTED.sub("", _CJK_PHOTOGRAPHER.sub("", field)))
    if _ROLE.fullmatch(field):  # a role given apart from the name ("corresponsal en Madrid"): whole, before "en"
        return []
    for piece in _AND.split(_ROLE_AFTER_COMMA.sub("", field)):  # "…, corresponsal en Madrid, y …"
        piece = _INITIALS.sub("", _BY.sub("", piece)).strip(" .·-–—:")
        for part in _cjk_names(piece) if _HANGUL_HAN.search(piece) else [piece]:
            if _SUFFIX.fullmatch(part) and found:  # "Martin Luther King, Jr.": the comma is no second name
                found[-1] = f"{found[-1]} {part}{'.' if part[-1] == 'r' else ''}"
                continue
            if not part or _CREDIT.search(part) or _SLUG.match(part) or (_DOMAIN.search(part) and not domains):
                continue
            if _HAN.search(part) and _DIGIT.search(part):
                continue
            # the publisher, named in its own script; a name with a reporter's role is a person's ("김신문 기자")
            if not domains and part == piece and _CJK_OUTLET.search(part):
                continue
            if _ROLE.fullmatch(part) or (_AGENCY.fullmatch(part) and found):  # what they are, not who
                continue
            part = _ROLE_BEFORE.sub("", part, count=1) if _ROLE_BEFORE.match(part) else part
            key = _norm(part)
            if not key or any(_same_name(key, publisher) for publisher in publishers):
                continue
            if key not in {_norm(n) for n in [*names, *found]}:
                found.append(part)
    return found


_SUFFIX = re.compile(r"(?:[JjSs]r|JR|SR|II|III|IV)$")
_HANGUL_HAN = re.compile(r"[\u3040-\u30ff\u4e00-\u9fff\uac00-\ud7af]")
_HAN = re.compile(r"[\u4e00-\u9fff]")
# a dateline glued to a name ("王小明台北5日電", "台北五日電"): no name holds a digit
_DIGIT = re.compile(r"\d|[〇一二三四五六七八九十]{1,3}日[電电]")
# a newspaper's, agency's or broadcaster's name in Chinese, Japanese or Korean ("台北時報", "日本経済新聞社",
# "연합뉴스") names the publisher, whatever script its site's name is in: as an author it stands only where no one
# is named (see :func:`choose_authors`)
# (a word of two letters or more before 報 or a Korean outlet's word: "김일보", "王報" may be given names)
_CJK_OUTLET = re.compile(rf"{_HANGUL_HAN.pattern}(?:新聞社?|新闻社?|週刊|周刊|通信社?|通訊社|通讯社|電視台|电视台|放送"
                         rf"|新聞網|新闻网)$|{_HANGUL_HAN.pattern}{{2}}[報报]$|[^\W\d_]{{2}}(?:일보|신문|뉴스|방송|통신)$")
# who took the pictures, not who wrote: a caption's credit ("（記者李大華攝）", "記者王小明／攝影", "照片：記者李大華")
# is no byline, and in a byline the photographer's part comes off ("文／王小明、圖／李大華")
_CJK_PHOTO = r"(?:照片|圖片|图片|圖|图|攝影|摄影)\s*[：:／/]"
_CJK_PHOTO_CREDIT = re.compile(rf"^{_CJK_PHOTO}|[／/]\s*(?:攝影|摄影)$|[攝摄]$")
_CJK_PHOTOGRAPHER = re.compile(rf"[、，,]\s*{_CJK_PHOTO}[^、，,]*")
# Chinese (Taiwan, Hong Kong) brackets a byline and ends it with where the story was reported from, after a slash
# ("〔記者王小明、李大華／台北報導〕", "記者王小明/台北即時報導"), and names who wrote it before one ("文／王小明",
# "撰文：王小明", "圖、文／王小明"); Japanese writes "文・山田太郎", "取材・文／山田太郎"
_OPEN, _CLOSE = "[〔【（(「]", "[〕】）)」]"
_CJK_BRACKETS = re.compile(rf"^{_OPEN}\s*(.*?)\s*{_CLOSE}$")
_CJK_REPORTED = re.compile(r"\s*[／/]\s*[^／/、,，\s]{0,12}(?:報導|報道|报道|電|电|編譯|编译)$")
_CJK_WRITER = r"(?:圖、?文|文、?圖|图、?文|文、?图|撰文|作者|文字|(?:取材・)?文)\s*[／/：:・]"
_CJK_WRITTEN_BY = re.compile(rf"^{_CJK_WRITER}\s*")
# a byline in Chinese, Japanese or Korean: a reporter's role (not a press conference: 記者會, 記者会見, 기자회견) or
# who wrote it, and names of two to four letters (Japanese spaces the given name: "山田 太郎")
_KO_ROLES = r"특파원|기자(?!회견|간담회|단)"
_CJK_REPORTER = rf"{_KO_ROLES}|記者(?![會会])|记者(?![會会])|特派員|特派员"
_CJK_BYLINE = re.compile(rf"{_CJK_REPORTER}|^{_OPEN}?\s*{_CJK_WRITER}")
# a line that no class marks as a byline is one only when framed as one: bracketed, ending in where the story was
# reported from, opening with who wrote it, or a role spaced from the name ("本报记者 张三", "홍길동 기자"); else
# "記者手記", "기자수첩" (a column), "無國界記者" (Reporters Without Borders), "他向記者表示" read as bylines
_CJK_FRAMED = re.compile(
    rf"^{_OPEN}.*{_CLOSE}$|{_CJK_REPORTED.pattern}|^{_CJK_WRITER}|^\S{{0,4}}?(?:{_CJK_REPORTER})\s+\S"
    rf"|^\S+\s+(?:{_CJK_REPORTER})$"
)
_CJK_NAME = re.compile(r"[\u4e00-\u9fff]{2,4}|[\uac00-\ud7af]{2,4}"
                       r"|[\u4e00-\u9fff]{1,3} [\u4e00-\u9fff\u3040-\u30ff]{1,4}")
# a writer's role ("Staff Writer", "Korrespondentin", "enviado especial", "inviata") in the languages of the news
# corpora: correspondent, special envoy, staff writer, reporter, editor, photographer. Not the newsroom ("Redaktion",
# "Rédaction"), which some sites name as author. German and Nordic compounds ("Auslandskorrespondentin",
# "Sportreporter", "utenriksmedarbeider") take any first part.
# "From our correspondent", "De notre correspondant à Rome", "Von unserem Korrespondenten", "Dal nostro inviato",
# "Van onze correspondent", "От нашего корреспондента" (its cases): the whole phrase is the role (no one is named by it)
_OUR = (r"(?:(?:from|with|de|avec|von|vom|dal(?:la)?|del(?:la)?|da|van|от)\s+)?(?:our|notre|nos|nuestr[oa]s?"
        r"|noss[oa]s?|nostr[oa]|unser(?:e|er|em|en)?|onze|vår|vores|наш(?:а|его|ей|ему|им)?)\s+"
        # "our Rome correspondent", "our Middle East editor": the place or desk between, capitalised
        r"(?:(?-i:[A-ZÀ-ÖØ-ÞА-ЯЁ][\w.'’-]*)\s+){0,2}?")
# "Editor-in-Chief", "editor at large", "rédacteur en chef" (taken whole where found, "?+": "en chef" is no place
# "en"), "redactor jefe", "redator-chefe", "caporedattore": one role, no name ("Chefredakteur" is a compound)
_IN_CHIEF = r"(?:-in-chief|-at-large|\s+in\s+chief|\s+at\s+large)?"
_ROLE_WORDS = (
    rf"(?:{_OUR})?(?:(?:senior|chief|staff|foreign|political|business|sports?|contributing|deputy|managing|associate"
    r"|national|local|special|world|europe|international|diplomatic|economics|science|technology|health|politics"
    r"|security|defen[cs]e|culture|arts|media|environment|climate|education|freie?r?|utsända?|udsendte?"
    # one-word desks: "Jane Doe, Tech Editor" is one writer, as "Business Editor" was ("Tom Editor" stays a name)
    r"|tech|weekend|opinion|metro|audience|features?|digital|news|city|travel|food|fashion|books|music|film|money"
    r"|property|crime|legal|data|graphics|video|night|executive|web|online|home|comment|letters|entertainment"
    r"|lifestyle|style|energy|transport|markets|finance|economy|investigations?|social|photo|picture"
    r"|utsendte?|särskilt|særligt?|özel|foto|специальн(?:ый|ая|ого|ой|ому|ым)|собственн(?:ый|ая|ого|ой|ому|ым))\s+)*"
    rf"(?:writers?|reporters?|correspondents?|editors?{_IN_CHIEF}|contributors?|columnists?|photographers?"
    r"|photojournalists?"
    r"|[^\W\d_]*(?:korrespondent(?:in|innen|en|er)?|redakteur(?:in|innen|e)?|reporter(?:in|innen|en|e)?"
    r"|fotograf(?:in|innen|en|er)?|journalist(?:in|innen|en|er|ar|erne)?|berichterstatter(?:in)?"
    r"|redakt(?:ø|ö)r(?:en|er|erna)?|medarbe(?:ider|jder|tare)(?:en|e|ne)?)"  # de, da, no, sv
    r"|correspondante?s?|envoyée?s?\s+spéciale?s?|envoyés\s+spéciaux|rédact(?:eur|rice)s?(?:\s+en\s+chef)?+"
    r"|journalistes?"
    r"|photographes?"  # fr
    r"|[^\W\d_]*redacteur(?:en|e|s)?(?:\s+en\s+chef)?+|verslaggever(?:s|ster|sters)?|fotogra(?:af|fen)"  # nl
    r"|corresponsal(?:es)?|enviad[oa]s?(?:\s+especia(?:l|les|is))?|redact(?:or|ora|ores|oras)(?:\s+jef[ae]s?)?"
    r"|reporter[oa]s?"
    r"|periodistas?|fotógraf[oa]s?"  # es
    r"|correspondentes?|repórter(?:es)?|jornalistas?|redat(?:or|ora|ores|oras)(?:-chefe)?"  # pt
    r"|corrispondent[ei]|inviat[oaie](?:\s+special[ei])?|(?:capo)?redatt(?:ore|ori|rice|rici)|giornalist[aie]"
    r"|fotograf[oaie]"  # it
    r"|muhabir(?:i|imiz)?|editör(?:ü)?|fotoğrafçı(?:sı)?"  # tr
    r"|корреспондент(?:ка|ки|ку|кой|ы|а|у|ом|ов)?|спецкор(?:а|у|ом)?|собкор(?:а|у|ом)?"
    r"|журналист(?:ка)?|редактор|обозреватель|репорт[её]р|фотограф"  # ru
    r"|(?:izi|i)ntatheli"  # zu, xh: journalist
    r")"
)
# news agencies as a byline's co-author ("Juan Pérez y agencias", "Anna Beispiel mit Agenturen"): no one's name
_WITH = r"(?:with|mit|avec|con|com|med|ile|с)\s+"
_AGENCIES = r"(?:agencies|wires|agenturen|agences|agencias|agências|agenzie|byråer|bureauer|ajanslar|агентства)"
# where a role is: "…, Korrespondentin in Paris", "corresponsal en Madrid", "inviato a Roma", "Special to The Post"
_AT = (r"(?:in|at|for|to|from|on|für|aus|bei|im|à|en|au|aux|de|des|du|pour|chez|a|desde|para|del|al|em|no|na|do|da"
       r"|di|per|dal|i|på|for|fra|från|til|för|ved|в|во|из|по|на|w)")
# a part that is only a role ("Staff Writers"), and where it is: "…, Korrespondentin in Paris", "corresponsal en
# Madrid", "inviato a Roma", "Kyiv-Korrespondent", "Special to The Post"
# the place runs to the field's end, not over a conjunction before a name of two words or more: "…, correspondent in
# Paris and John Smith" names John Smith ("…, correspondent in Bosnia and Herzegovina" names no one)
_PLACE = rf"(?:(?!\s+{_CONJUNCTION}\s+[^\s,;|•]+\s+[^\W\d_])[^,;|•])*"
# Dutch names the desk or the post after the role, with no preposition: "redacteur buitenland", "verslaggever
# economie" (a desk in lower case: a capitalised word after "Redacteur" is a name), "correspondent Midden-Oosten"
_NL_DESK = (r"(?:(?<=redacteur)|(?<=verslaggever)|(?<=verslaggeefster))\s+(?-i:[^\W\d_A-ZÀ-Þ][\w-]*)"
            r"|(?<=correspondent)\s+(?-i:[A-ZÀ-Þ][\w-]*)")
_ROLE_AT = rf"(?:[^\W\d_][\w.’']*-)?{_ROLE_WORDS}(?:\s+{_AT}\b{_PLACE}|{_NL_DESK})?|special to\b{_PLACE}"
_ROLE = re.compile(_ROLE_AT, re.IGNORECASE)
_AGENCY = re.compile(rf"(?:{_WITH})?{_AGENCIES}", re.IGNORECASE)
# after a name and a comma, a place or desk may come before a correspondent's or editor's role ("…, Washington
# correspondent", "…, Europe editor", "…, Ankara muhabiri"); not before a writer's ("Tom Writer" is a name), nor
# alone ("Guardian staff reporter" is the byline). "Editor" is a surname too: capitalised after a word, it is a
# co-author ("Jane Doe, Tom Editor"), as no one is called "Correspondent". Agencies: "…, agencias", "… mit Agenturen"
_DESK = r"(?:(?:[^\W\d_][\w.’'-]*\s+){1,3}(?:correspondents?|(?-i:editors?)|\w*korrespondent\w*|corresponsal"
_DESK += r"|correspondante?|corrispondente|correspondente|корреспондент|muhabiri)"
# a capitalised Editor after one word is a surname ("Tom Editor"), after two or three a desk ("North America Editor")
_DESK += r"|(?:[^\W\d_][\w.’'-]*\s+){2,3}(?-i:Editors?))"
_ROLE_AFTER_COMMA = re.compile(
    rf"\s*[,;]\s*(?:{_ROLE_AT}|{_DESK}|(?:{_WITH})?{_AGENCIES})\s*(?=[,;]|$|\s+{_CONJUNCTION}\s)|\s+{_WITH}{_AGENCIES}\s*$",
    re.IGNORECASE,
)
# a role before the name ("Staff Writer Jane Doe", "Editor: John Smith"): one writer's, so singular
_ROLE_BEFORE = re.compile(rf"(?:{_ROLE_WORDS}(?<!s))\s*:?\s+(?=[^\W\d_])", re.IGNORECASE)
# Korean, Japanese and Chinese print the role glued to the name, after or before it, spaced or not ("배윤경 기자",
# "松岡大地記者", "山田 太郎記者", "青山直篤 ワシントン特派員", "記者 山田太郎", "本报记者 张三")
_CJK_ROLES = rf"(?:{_KO_ROLES}|記者|记者|特派員|特派员|編集委員|カメラマン)"
_ROLE_AFTER_NAME = re.compile(rf"(?:\s+(?P<at>\S+?))?\s*(?P<role>{_CJK_ROLES})$")
_ROLE_BEFORE_NAME = re.compile(rf"^\S*?{_CJK_ROLES}\s*[:：]?\s*(?=\S)")
# the word before the role is where the writer is ("ワシントン特派員", "워싱턴 특파원", "社会部記者"), not the given
# name ("山田 太郎記者"), when it is a desk or bureau (部, 局), or before a correspondent's role a foreign place
# (katakana, Hangul: Korean writes a name unspaced) or a place after a whole name ("青山直篤 北京特派員": three
# letters or more before it). Before 記者 a katakana word is a given name ("田中 マリア記者")
_DESK_WORD = re.compile(r"\S*[部局]")
_PLACE_WORD = re.compile(rf"[\u30a0-\u30ff]+|[\uac00-\ud7af]+|{_DESK_WORD.pattern}")
_HANGUL = re.compile(r"[\uac00-\ud7af]+")


# Chinese spaces one reporter's name from the next ("本报记者 张三 李四"), never a family name from a given name, and
# writes 记者 (Japanese writes 記者 and spaces 山田 太郎); Korean lists names with a middle dot ("김철수·이영희 기자")
_HAN_NAMES = re.compile(r"[\u4e00-\u9fff]{2,4}(?:\s+[\u4e00-\u9fff]{2,4})+")
_HANGUL_NAMES = re.compile(r"[\uac00-\ud7af]{2,4}(?:·[\uac00-\ud7af]{2,4})+")


def _cjk_names(part: str) -> list[str]:
    """The names of a part in Chinese, Japanese or Korean, without their role: "本报记者 张三 李四" is two."""
    name = _without_cjk_role(part)
    if "记者" in part and _HAN_NAMES.fullmatch(name):
        return name.split()
    if _HANGUL_NAMES.fullmatch(name):
        return name.split("·")
    return [name]


def _without_cjk_role(part: str) -> str:
    """A name without the role glued to it: "山田 太郎記者" is 山田 太郎, "青山直篤 ワシントン特派員" is 青山直篤."""
    role = _ROLE_AFTER_NAME.search(part)
    if not role:  # a role before the name only where none ends it: "記者 山田太郎", "本报记者 张三"
        return _ROLE_BEFORE_NAME.sub("", part, count=1)
    name, at = part[: role.start()], role["at"]
    correspondent = role["role"] in ("特派員", "特派员", "특파원")
    if at and _HANGUL.fullmatch(at) and (not correspondent or name.rstrip().endswith(")")):
        return at  # Korean writes a name unspaced; before it, a dateline or outlet: "(서울=연합뉴스) 홍길동 기자"
    place = _PLACE_WORD if correspondent else _DESK_WORD
    if at and not (place.fullmatch(at) or (correspondent and _words(name) >= 2)):
        name = part[: role.end("at")]  # the given name, spaced from the family name
    return name


# a byline's fields: "By Jane Doe | jdoe@post.example | The Denver Post", "By Anna Beispiel • Updated 3 hours ago"
_FIELDS = re.compile(r"\s+[|•]\s+")
_NOT_A_NAME = re.compile(r"\d|@")  # a date, a reading time, an e-mail address


def _byline_fields(text: str) -> list[str]:
    """Of a byline in fields, those that open with a byline's word ("Updated 3 hours ago | By Anna Beispiel"),
    else those that hold no digit or e-mail address ("Jane Doe | John Smith", "Jane Doe • 4 min read");
    the publisher's name comes off later, as from any byline."""
    fields = _FIELDS.split(text)
    if len(fields) == 1:
        return fields
    return [field for field in fields if _BY.match(field)] or [f for f in fields if not _NOT_A_NAME.search(f)]


def _same_name(a: str, b: str) -> bool:
    """One name is the other, or all the words of one are in the other ("Lesotho Times", "The Lesotho Times")."""
    words_a, words_b = set(a.split()), set(b.split())
    return a == b or (len(a) >= 3 and len(b) >= 3 and (words_a <= words_b or words_b <= words_a))


def choose_authors(sources: Iterable[list[str] | Callable[[], list[str]]], publisher_names: Iterable[str]) -> list[str]:
    """The first source that names people; else the publisher as the page names it ("Associated Press").

    A publisher's name stands as a byline only where no source names a person: an agency
    story's author is the agency, a staff story's is its writer. A source may be a function,
    called only when the sources before it name no one: the costly searches (trafilatura's
    copies the whole tree) then run on a quarter of the pages.
    """
    publisher_names = list(publisher_names)
    read: list[list[str]] = []
    for source in sources:
        raw = source() if callable(source) else source
        read.append(raw)
        names = byline_names(raw, publisher_names)
        if names:
            return names
    for raw in read:
        names = byline_names(raw, domains=True)  # "ndr.de": the publisher as the page names it
        if names:
            return names[:1]
    return []


_NAME_WORD = re.compile(r"^[^\W\d_][\w'’.-]*$")


def byline_block(text: str, title: str = "", classed: bool = False) -> list[str]:
    """The names of a paragraph that is only a byline ("Von Nina Magoley", "Mathatisi Sebusi/Mohalenyane Phakela",
    "〔記者王小明／台北報導〕", "김철수 기자"); ``classed``: an element the page classes as a byline, where a reporter's
    role in Chinese, Japanese or Korean is enough ("記者王小明"), which in a plain paragraph must be framed."""
    text = _plain(text)
    if not text or len(text) > 90 or text.rstrip().endswith((".", "!", "?", ":")) or _norm(text) == _norm(title):
        return []
    if _CJK_BYLINE.search(text):
        if not classed and not _CJK_FRAMED.search(text):
            return []
        names = byline_names(text)
        return names if len(text) <= 40 and names and all(_CJK_NAME.fullmatch(name) for name in names) else []
    prefixed = _BY.match(text) is not None
    names = byline_names(text)
    if not names:
        return []
    for name in names:
        words = name.split()
        if not 2 <= len(words) <= 4 or not all(_NAME_WORD.match(word) for word in words):
            return []
        if not prefixed and not all(word[0].isupper() for word in words):
            return []
        if words[0][0].islower() or words[-1][0].islower():  # "Yazar ve gazeteci …", "Oleh karena itu …": prose
            return []
    return names


def is_cjk_byline(text: str) -> bool:
    """Whether a line reads as a byline in Chinese, Japanese or Korean, framed as one ("〔記者王小明／台北報導〕")."""
    text = _plain(text)
    return _CJK_BYLINE.search(text) is not None and _CJK_FRAMED.search(text) is not None


def is_byline(text: str) -> bool:
    """Whether a text opens with a byline's word ("By", "Von", "Par", "Text:") or names a reporter's role in
    Chinese, Japanese or Korean ("記者王小明", "김철수 기자"): a share bar's "Twitter Facebook" reads as a name too."""
    text = unicodedata.normalize("NFC", text)
    return _BY.match(text) is not None or _CJK_BYLINE.search(text) is not None


def is_publisher(names: list[str], publisher_names: Iterable[str]) -> bool:
    publishers = [_norm(name) for name in publisher_names if name]
    return bool(names) and all(
        any(_same_name(_norm(n), p) for p in publishers) or _DOMAIN.search(n) or _CJK_OUTLET.search(n) for n in names
    )
