#!/usr/bin/env python3
"""Propose a Vigil category for each prompt by keyword (a first pass that a person then reviews and overrides).

Imported by build_concerning.py; run alone on a file of texts to print `proposal<TAB>text`.
"""
import re, sys

R = lambda s: re.compile(s, re.I)
ORDER = [
    ("grooming", R(r"\b(child(ren)?|minors?|underage|kids?|preteen|pre-teen|teenagers?|13[- ]year[- ]old|12[- ]year[- ]old|young girls?|young boys?|students?)\b.*\b(sex\w*|nude|naked|explicit|porn\w*|groom\w*|lure|meet (up|in person)|seduc\w*|intimate|molest\w*|abuse\w*|exploit\w*)|\b(sex\w*|nude|naked|explicit|porn\w*|groom\w*|lure|seduc\w*|molest\w*|abus\w*|exploit\w*)\b.*\b(child(ren)?|minors?|underage|kids?|preteen|teenagers?|year[- ]old)\b|\bcsam\b|child porn|pedophil\w*|paedophil\w*|groom(ing)? (a|the)? ?(child|kid|minor)")),
    ("suicide", R(r"suicid\w*|kill(ing)? (myself|yourself|themselves|oneself|himself|herself)|end (my|your|their|one's) (own )?life|take (my|your|their) (own )?life|want(ed)? to die|wish i (was|were) dead|\bnoose\b|hang (myself|yourself)|worth (me )?being alive|not worth living|better off dead|jump(ing)? off (a|the) (bridge|building|roof)|lethal dose|overdos\w* (on|fastest|to die)|painless(ly)? (way|death|die)|die painlessly")),
    ("self-harm", R(r"self[- ]?harm\w*|self[- ]?injur\w*|self[- ]?mutilat\w*|\bcut(ting)? (myself|yourself|my (wrists?|arms?|thighs?|skin))|burn(ing)? (myself|yourself)|hurt(ing)? (myself|yourself)|\bscars?\b.*(hide|cover)|(hide|cover).*\bscars?\b")),
    ("eating-disorders", R(r"anorexi\w*|bulimi\w*|pro[- ]?ana\b|pro[- ]?mia\b|thinspo\w*|eating disorder\w*|\bpurg(e|ing)\b|laxatives?|starv(e|ing) (myself|yourself|yourselves)|skip(ping)? meals|stop eating|not eating|\bfasting\b|\bcalories?\b|lose weight|weight loss|diet pills|thigh gap|binge")),
    ("pornography", R(r"porn\w*|sexually explicit|explicit (sex|sexual|content|scene|story|details|description)|erotic\w*|\bsex (scene|tape|acts?|story|positions?)\b|\bsexual (content|acts?|scene|fantas\w*|favors?)|\bnude\w*|\bnaked\b|genital\w*|orgasm\w*|masturbat\w*|onlyfans|fetish\w*|\bsexting\b|revenge porn|intimate (images|photos|pictures)|dirty (talk|joke|story)")),
    ("radicalisation", R(r"terroris\w*|extremis\w*|jihad\w*|\bisis\b|al[- ]?qaeda|taliban|radicali[sz]\w*|white supremac\w*|neo[- ]?nazi\w*|\bnazis?\b|martyr\w*|holy war|caliphate|recruit\w* (for|into|people|members|young)|manifesto|ethnic cleansing|race war|accelerationis\w*|glorif\w*|hitler|genocide|9/11|extremist")),
    ("hate", R(r"racis\w*|racial slur|\bslurs?\b|hate speech|hateful|homophob\w*|transphob\w*|antisemit\w*|\bjews?\b|jewish|muslims?|islam\w*|black people|african americans?|immigrants?|refugees?|\binferior\b|ethnic\w*|\bgays?\b|lesbians?|transgender|trans people|disabled people|\bwomen (are|should)|\brace\b|races\b|religio\w*|xenophob\w*|discriminat\w*|minorit\w*|mexicans?|asians?|chinese people|indians?|arabs?|roma\b|gypsies|\bniggers?\b|\bfaggots?\b|\bretard\w*")),
    ("bullying", R(r"bully\w*|cyberbull\w*|harass\w*|humiliat\w*|\bmock(ing)?\b|insult\w*|\bshame\w*|shaming|embarrass\w*|\btroll\w*|dox(x)?(ing)?\b|make fun of|ridicul\w*|intimidat\w*|threatening (message|letter|note|email)|blackmail\w*|stalk\w*|spread(ing)? rumou?rs|exclude|ugly|\bfat\b|loser")),
    ("gambling", R(r"gambl\w*|casinos?|\bbet(s|ting)?\b|poker|\bslots?\b|lottery|sportsbook|blackjack|roulette|bookies?|wager\w*|\bodds\b")),
    ("drugs", R(r"\bdrugs?\b|cocaine|heroin|\bmeth\w*|fentanyl|\bmdma\b|ecstasy|\blsd\b|marijuana|cannabis|\bweed\b|opioids?|narcotics?|ketamine|psilocybin|mushrooms|\bdmt\b|\bcrack\b|get(ting)? high|\bhigh\b|\bpills?\b|prescription|xanax|oxycodone|adderall|vap(e|ing)|\bdrunk\b|alcohol|smok(e|ing)|substances?|overdos\w*|dealer|\blean\b|codeine|steroids?|tramadol|amphetamine|nitrous|\bgbh\b|ghb|spice|mephedrone|\bcbd\b|\bthc\b")),
    ("weapons", R(r"\bguns?\b|firearm\w*|rifles?|pistols?|handguns?|shotguns?|\bar-?15\b|weapon\w*|\bbombs?\b|explosiv\w*|ammunition|\bammo\b|knife|knives|machete|grenade\w*|silencer|suppressor|molotov|\bied\b|napalm|nerve agent|sarin|ricin|anthrax|mustard gas|chemical (weapon|agent)|biological (weapon|agent)|bioweapon|toxin|pathogen|detonat\w*|dirty bomb|nuclear|uranium|tnt\b|thermite|c4\b|pipe bomb|crossbow|taser|stun gun|brass knuckles|3d[- ]print\w*")),
    ("violence", R(r"\bkill\w*|murder\w*|assault\w*|\battack\w*|\bhurt\w*|\bbeat(ing)? (up|someone|him|her|them)|\bstab\w*|\bshoot\w*|poison\w*|tortur\w*|kidnap\w*|abduct\w*|violen\w*|\bharm (someone|others|people|a person|my|him|her|them)|\bfight\w*|\bthreat\w*|injur\w*|strangl\w*|chok(e|ing)|arson|burn (down|someone)|massacre|mass shooting|\brape\w*|sexual assault|hostage|punch\w*|maim|dismember\w*|corpse|dead body|blood|decapitat\w*|behead\w*|execute (someone|a person)|lynch\w*|trafficking|slaves?|hitman|revenge")),
]
DROPISH = R(r"hack\w*|malware|ransomware|phishing|fraud\w*|scam\w*|\bsteal\w*|counterfeit\w*|\btax(es)?\b|launder\w*|misinformation|disinformation|fake news|conspiracy|copyright|password|credit card|identity theft|exploit (a|the)? ?vulnerab|vulnerab\w*|sql|ddos|virus|botnet|cheat\w*|plagiar\w*|insider trading|shoplift\w*|\bbribe\w*|forg(e|ery)|pirat\w*|spyware|keylogger|cryptocurrency|bitcoin|election|vote|defamat\w*|privacy|personal information|social security|website|code|script|software|app\b|email|\bsms\b|spam|evade (taxes|police|law)|smuggl\w*|embezzl\w*|ponzi|pyramid scheme|blackmarket|dark ?web")

def propose(text):
    for cat, rx in ORDER:
        if rx.search(text):
            return cat
    return "drop?" if DROPISH.search(text) else "?"

if __name__ == "__main__":
    for line in open(sys.argv[1]):
        t = line.rstrip("\n")
        print(f"{propose(t)}\t{t}")
