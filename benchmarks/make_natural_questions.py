"""How benchmarks/data/natural_questions.json was written: the questions and facts by hand, the
supporting articles named by their place in the MultiHop-RAG corpus and written out as titles.

    python benchmarks/make_natural_questions.py [path/to/corpus.json]   # from the repository root
"""
import json
import sys
from collections import Counter

c = json.load(open(sys.argv[1] if len(sys.argv) > 1 else '../shared/eval/multihop-rag/corpus.json'))
STORIES = [[524, 169, 354], [25, 24, 153], [377, 223], [371, 63, 64], [226, 9, 293]]


def T(*ids):
    """Titles of the supporting articles: each listed one and the other articles of the corpus that tell
    the same story (found by searching the corpus for the facts)."""
    out = []
    for i in ids:
        for j in next((st for st in STORIES if i in st), [i]):
            if c[j]['title'] not in out:
                out.append(c[j]['title'])
    return out
Q = []
def add(cat, q, facts, arts, **kw):
    item = {"id": f"{cat[:3]}{sum(1 for x in Q if x['category']==cat)+1:02d}", "category": cat}
    if isinstance(q, list):
        item["turns"] = q
    else:
        item["question"] = q
    item["facts"] = facts
    item["articles"] = T(*arts)
    if cat == "outlet":  # what that outlet reported: its own articles only
        outlet = c[arts[0]]["source"]
        item["articles"] = [t for t in item["articles"] if any(a["title"] == t and a["source"] == outlet for a in c)]
    item.update(kw)
    Q.append(item)

# explanations
add("explanation", "Why are blue Halloween buckets controversial?", [["autism", "autistic", "disability"], ["target", "abuse", "different", "ableist", "necessary", "point out"]], [388])
add("explanation", "Why was Apple's Eddy Cue questioned in the Google antitrust trial?", [["default"], ["search"]], [14])
add("explanation", "Why is the container shipping industry heading back into losses?", [["supply", "capacity", "ships"], ["rates", "freight", "costs"]], [321])
add("explanation", "Why do Uber sexual assault survivors want cameras in cars?", [["camera"], ["safety", "inadequate", "half-measure", "not enough", "prevent", "reduce"]], [367])
add("explanation", "Why did the EU warn Elon Musk's X?", [["illegal content"], ["disinformation"]], [25])
add("explanation", "How did the Houston Astros cheat in 2017?", [["sign"], ["camera", "video", "record"]], [7])
add("explanation", "Why did Jim Jordan fail to become House speaker on the second ballot?", [["22", "republicans", "opposed", "lost"]], [377])
add("explanation", "Why does SoftBank want a stake in Cubic Telecom?", [["connect", "connectivity", "connected"], ["vehicle", "car"]], [510])

# summaries
add("summary", "Summarise what Gary Wang told the court at Sam Bankman-Fried's trial.", [["crime", "fraud"], ["bankman-fried", "sbf", "ellison", "singh"]], [226])
add("summary", "What's the story with the Steam Deck OLED?", [["oled", "screen", "display"], ["battery"]], [524])
add("summary", "Give me an overview of Sir Jim Ratcliffe's bid for Manchester United.", [["25"], ["glazer", "board", "1.3"]], [366])
add("summary", "Tell me about 10 Minute School's new funding round.", [["5.5"], ["conjunction capital"]], [458])
add("summary", "What does the new study say about using cannabis during pregnancy?", [["small", "birth", "gestational"], ["trimester", "exposure", "timing", "risk"]], [604])
add("summary", "Summarise what's happening with NASCAR's new media rights deal.", [["7.7"], ["fox", "nbc", "amazon", "warner"]], [186])
add("summary", "How did the US women's soccer team end up hiring Emma Hayes?", [["chelsea"], ["crocker", "u s soccer", "search", "interview"]], [108])
add("summary", "What happened in the final game of the T20 series between the West Indies and England?", [["west indies"], ["hope", "six", "132"]], [371])

# either/or
add("choice", "Did SoftBank take a 51% or a 25% stake in Cubic Telecom?", [["51"]], [510])
add("choice", "Is the Steam Deck OLED's screen 7.4 inches or 7 inches?", [["7.4"]], [524])
add("choice", "Is the Steam Deck OLED's chip made on a 6nm or a 7nm process?", [["6nm", "6 nm"]], [524])
add("choice", "Did Jim Jordan gain or lose support on the second ballot?", [["lose", "lost"]], [377])
add("choice", "Did the Springboks beat England or New Zealand in the 2019 World Cup final?", [["england"]], [176])
add("choice", "Is Daye's STI test launching first in the UK or the US?", [["uk", "u k", "united kingdom"]], [603])
add("choice", "Did Uber add its 911 button in 2018 or 2021?", [["2018"]], [367])
add("choice", "Did the West Indies or England win the T20 series?", [["west indies"]], [371])

# organisations
add("organisation", "What obligations does the Digital Services Act put on X?", [["mitigate", "risk"], ["illegal content", "reports"]], [25])
add("organisation", "Which firm led 10 Minute School's pre-Series A round?", [["conjunction capital"]], [458])
add("organisation", "What did the National Autism Association say about blue Halloween buckets?", [["not all parents", "color coding", "necessary"]], [388])
add("organisation", "What is Hapag-Lloyd's chief executive worried about?", [["downturn", "24 to 36 months", "next 24"]], [321])
add("organisation", "What job did the Glazers give the Raine Group in the Manchester United sale?", [["bidding", "process", "sale"]], [366])
add("organisation", "What did U.S. Soccer's president say about Emma Hayes?", [["energy", "will to win", "natural fit"]], [108])
add("organisation", "How much did the biggest container shipping lines earn in 2021 and 2022?", [["364"]], [321])

# single facts
add("fact", "How much is Cubic Telecom worth after the SoftBank deal?", [["1 billion", "927"]], [510])
add("fact", "When does the Steam Deck OLED go on sale?", [["november 16", "nov 16", "16 november"]], [524])
add("fact", "How many STIs can Daye's tampon test detect?", [["five", "5"]], [603])
add("fact", "How big is the Steam Deck OLED's battery?", [["50whr", "50 whr", "50 watt"]], [524])
add("fact", "Who started the blue Halloween bucket trend?", [["alicia plumer", "plumer"]], [388])
add("fact", "How many Republicans voted against Jim Jordan on the second ballot?", [["22"]], [377])
add("fact", "Who runs Warner Music Group?", [["kyncl"]], [455])
add("fact", "What was the score when the Springboks beat England in the 2019 World Cup final?", [["32 12"]], [176])
add("fact", "How many vehicles does Cubic Telecom connect?", [["17 million"]], [510])
add("fact", "How much did Sir Jim Ratcliffe offer for his stake in Manchester United?", [["1 3"]], [366])

# what an outlet reported
add("outlet", "What did The Verge think of Amazon's latest Echo Frames?", [["style", "stylish"], ["battery", "bass", "audio", "pricey", "alexa"]], [431])
add("outlet", "According to TechCrunch, how much did 10 Minute School raise?", [["5.5"]], [458])
add("outlet", "What did Fortune report about Jim Jordan?", [["speaker"], ["ballot", "failed", "lost", "opposed"]], [377])
add("outlet", "What did Engadget say about the Steam Deck OLED's screen?", [["7.4", "oled", "hdr", "90hz", "90 hz"]], [524])
add("outlet", "What did CNBC report about Gary Wang's testimony?", [["crime", "fraud"], ["bankman-fried", "bankman fried"]], [226])
add("outlet", "What did Live Science report about cannabis use in pregnancy?", [["small", "birth", "gestational"]], [604])
add("outlet", "How did The Guardian describe the end of the West Indies' T20 series against England?", [["hope", "six", "3 2", "west indies"]], [371])

# lists
add("list", "Which companies are part of NASCAR's new media rights deal?", [["fox"], ["nbc"], ["amazon"], ["warner"]], [186])
add("list", "Which infections does Daye's tampon test screen for?", [["chlamydia"], ["gonorrhoea", "gonorrhea"], ["trichomonas"], ["mycoplasma"], ["ureaplasma"]], [603])
add("list", "What safety features has Uber added to its app?", [["911"], ["location"], ["audio", "record"]], [367])
add("list", "What charges does Sam Bankman-Fried face?", [["wire fraud"], ["securities fraud"], ["money laundering"]], [226])
add("list", "Who invested in 10 Minute School's latest round?", [["conjunction capital"], ["peak xv", "surge"], ["startup bangladesh"]], [458])
add("list", "What does 10 Minute School offer its students?", [["live"], ["recorded", "lessons"], ["quiz"]], [458])
add("list", "What are the main improvements in the Steam Deck OLED?", [["screen", "display", "oled"], ["battery"]], [524])

# unanswerable (the articles do not say; a right answer refuses, or says what they do say instead)
add("unanswerable", "Who won the 2024 Super Bowl?", [], [], instead=[["not yet", "preview", "potential"]])
add("unanswerable", "What did the Wall Street Journal report about the Steam Deck OLED?", [], [])
add("unanswerable", "What is the population of Dhaka?", [], [])
add("unanswerable", "What did Tim Cook say when he testified in the Google search trial?", [], [])
add("unanswerable", "How much does Daye's STI test cost in the United States?", [], [])
add("unanswerable", "What sentence did Sam Bankman-Fried receive?", [], [], instead=[["scheduled to be sentenced", "sentenced in march", "not yet been sentenced"]])
add("unanswerable", "According to Bloomberg, how many Echo Frames has Amazon sold?", [], [])
add("unanswerable", "Who won the 2025 Rugby World Cup?", [], [])

# two-turn follow-ups (scored on the second turn)
add("followup", ["Which firm led 10 Minute School's funding round?", "How much did they raise?"], [["5.5"]], [458])
add("followup", ["What did SoftBank buy a stake in this December?", "Who will stay on as its CEO?"], [["napier"]], [510])
add("followup", ["What is the Steam Deck OLED?", "How long does its battery last?"], [["12 hours", "30 50", "30 to 50"]], [524])
add("followup", ["Why did the EU warn X about content on its platform?", "Who sent the warning?"], [["breton"]], [25])
add("followup", ["Who started the blue Halloween bucket trend?", "Why do some parents object to it?"], [["disability", "target", "abuse", "different", "necessary"]], [388])

doc = {
    "about": ("Natural questions over the MultiHop-RAG corpus (shared/eval/multihop-rag/corpus.json), written "
              "by hand from the articles' text for issue 23. Each item: category, question (or turns: a "
              "conversation whose last turn is scored), facts (every group must be stated; any alternative in "
              "a group counts, compared after normalising), articles (titles of the articles that support "
              "the answer: each listed article and the corpus's other articles that tell the same story). Unanswerable items must be refused, or say what the articles say instead "
              "(instead). Scored by `rag eval answers --questions FILE`; the pass rule is in docs/answers.md."),
    "questions": Q,
}
json.dump(doc, open('benchmarks/data/natural_questions.json', 'w'), indent=1, ensure_ascii=False)
print(len(Q), Counter(x['category'] for x in Q))
