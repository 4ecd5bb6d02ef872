import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

# the original language contract, copied from the design folder: tests read nothing outside the repository
LANGUAGE_MD = os.path.join(ROOT, "tests", "data", "LANGUAGE.md")
