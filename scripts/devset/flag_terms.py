#!/usr/bin/env python3
"""Print rows of a `source<TAB>text` file whose text contains a safeguarding-related word, for a person to review.

Usage: flag_terms.py IN.tsv > hits.tsv
"""
import re, sys
WORDS = r"""suicid\w* kill\w* die dying overdose noose hang\w* self.?harm cutting cut myself anorexi\w* bulimi\w*
pro.?ana thinspo\w* purg\w* laxative\w* starv\w* terror\w* jihad\w* isis extremis\w* nazi\w* kkk white.?power
nigger\w* faggot\w* kike\w* spic\w* chink\w* tranny racis\w* hate\w* groom\w* pedo\w* paedo\w* child.?porn lolita
underage preteen teen\w* bully\w* porn\w* sex\w* xxx nude\w* naked nudes? boob\w* tits? pussy penis cock dick\w* fuck\w* cum
milf hentai erotic\w* escort\w* strip\w* playboy gun\w* rifle\w* pistol\w* ammo knife knives bomb\w* explosive\w* weapon\w*
shoot\w* drug\w* cocaine heroin meth\w* weed marijuana cannabis ecstasy mdma lsd ketamine xanax high get.?high
gambl\w* casino\w* poker betting bet slots? lottery murder\w* rape\w* stab\w* assault\w* abuse\w* torture\w* shooting""".split()
rx = re.compile(r"\b(" + "|".join(WORDS) + r")\b", re.I)
for line in open(sys.argv[1]):
    src, text = line.rstrip("\n").split("\t", 1)
    m = rx.search(text)
    if m:
        print(f"{m.group(1).lower()}\t{src}\t{text}")
