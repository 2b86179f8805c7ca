"""The colour scale every heatmap shares, in the HTML report and in the PNG snapshot.

Viridis steps, light (few streams) to dark (many): they differ in lightness as well as hue, so they stay
ordered for the common colour-vision deficiencies and in greyscale. Zero has its own neutral grey.
"""

EMPTY_COLOUR = "#ebedf0"
STEP_COLOURS = ["#fde725", "#5ec962", "#21918c", "#3b528b", "#440154"]


def step_of(value: int, maximum: int) -> int:
    """0 for no streams, else 1..len(STEP_COLOURS), proportional to the largest value shown."""
    if value <= 0 or maximum <= 0:
        return 0
    return min(len(STEP_COLOURS), -(-value * len(STEP_COLOURS) // maximum))


def colour_of(value: int, maximum: int) -> str:
    step = step_of(value, maximum)
    return EMPTY_COLOUR if step == 0 else STEP_COLOURS[step - 1]


def step_bounds(maximum: int) -> list[tuple[int, int]]:
    """The (lowest, highest) value each step stands for, given the largest value shown; an empty step (when maximum
    is smaller than the number of steps) has lowest > highest."""
    steps = len(STEP_COLOURS)
    return [((step - 1) * maximum // steps + 1, step * maximum // steps) for step in range(1, steps + 1)]
