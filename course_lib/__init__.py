"""course_lib: the tested reference implementation behind the GAN facial-expression course.

Each module is one concept of the course (``facs``: Action Units and expression labels,
...).  Notebooks import from here rather than redefining code; the tests keep both in step.
"""
__version__ = "0.1.0"

#: The GitHub repository ("owner/name") the course is published from.  The single
#: constant behind every "Open in Colab" badge and every Colab setup cell; after a fork
#: or rename, change it here and run ``python -m course_lib badges`` to rewrite them.
REPO = "gan-expression-course/gan-expression-course"
#: Branch the Colab badges point at.
BRANCH = "main"


def repo_git_url() -> str:
    """Clone URL of :data:`REPO` (what the Colab setup cell clones)."""
    return f"https://github.com/{REPO}.git"


def colab_url(notebook: str) -> str:
    """'Open in Colab' URL of ``notebooks/<notebook>``."""
    return f"https://colab.research.google.com/github/{REPO}/blob/{BRANCH}/notebooks/{notebook}"
