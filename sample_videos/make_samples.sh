#!/usr/bin/env bash
# Regenerate the curated sample clips (mp4 + .labels.jsonl) in this directory.
#
#   sample_videos/make_samples.sh [OUT_DIR]        # default: the directory of this script
#
# Needs the synth extra in a separate venv (see src/posture_coach/synth/README.md):
#   PY=.venv-synth/bin/python (override with PY=...). ~15 s per clip on 2 cores.
# Clips under eval/ use held-out bodies/seeds/cameras (split "eval"): never tune on them.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/.." && pwd)"
OUT="${1:-$HERE}"
PY="${PY:-$ROOT/.venv-synth/bin/python}"
export ANNY_CACHE_DIR="${ANNY_CACHE_DIR:-$HOME/.cache/anny}"

make() {  # name scenario seed body camera split
  local sub=""; [[ "$6" == eval ]] && sub="eval/"
  "$PY" -m posture_coach.synth.cli make --scenario "$2" --seed "$3" --body "$4" \
    --camera "$5" --split "$6" --fps 15 --width 640 --height 480 \
    --name "$1" --out "$OUT/$sub"
}

# name                         scenario                 seed body           camera           split
make neutral_vs_arms_crossed    neutral_vs_arms_crossed  1    m_avg_light    front_full       tune
make arms_crossed_upper         arms_crossed_upper       2    f_avg_brown    oblique          tune
make hands_on_hips_both         hands_on_hips_both       3    m_heavy_dark   front_full       tune
make hands_on_hips_left         hands_on_hips_left       4    f_slim_medium  front_full_right tune
make hands_front                hands_front              5    m_slim_asian   front_full       tune
make hands_in_pockets           hands_in_pockets         6    m_avg_light    oblique          tune
make hunched_side               hunched_side             7    m_avg_light    side             tune
make upright_side               upright_side             8    f_slim_medium  side_right       tune
make shoulders_tilted           shoulders_tilted         9    m_slim_asian   front_full       tune
make bow_side                   bow_side                 10   m_heavy_dark   side             tune
make sitting_upright_vs_back    sitting_upright_vs_back  11   m_heavy_dark   oblique_right    tune
make sitting_slumped_side       sitting_slumped          12   m_slim_asian   side             tune
make legs_crossed               legs_crossed             13   f_avg_brown    oblique          tune
make chin_on_hand               chin_on_hand             14   f_slim_medium  laptop           tune
make sitting_forward_side       sitting_forward          15   f_slim_medium  side             tune
make laptop_slump               laptop_slump             16   m_avg_light    laptop           tune
make smile_laptop               smile_laptop             17   m_heavy_dark   laptop           tune
make smile_six_teeth            smile_six_teeth          31   m_avg_light    laptop_face      tune
make smile_broad_teeth          smile_broad_teeth        32   f_avg_brown    laptop_face      tune
make yawn_laptop                yawn_laptop              18   f_avg_brown    laptop           tune
make head_turns_laptop          head_turns_laptop        19   m_slim_asian   laptop           tune
make blinks_laptop              blinks_laptop            20   m_avg_light    laptop           tune
make handshake_side             handshake_side           21   m_avg_light    side_right       tune
make card_two_hands             card_two_hands           22   f_slim_medium  front_full       tune
make card_one_hand              card_one_hand            23   m_heavy_dark   oblique          tune
make pointing_vs_open_palm      pointing_vs_open_palm    24   f_avg_brown    front_full       tune
make hands_on_hips_right        hands_on_hips_right      25   m_slim_asian   oblique          tune
make stance_men                 stance_men               26   m_avg_light    front_full       tune
make stance_women               stance_women             27   f_slim_medium  oblique          tune
make leg_shaking                leg_shaking              28   m_slim_asian   oblique          tune
make fidgeting                  fidgeting                29   f_avg_brown    oblique          tune
# the onboarding drill in one ~28 s clip (3 shots joined by hard cuts; no grooming step)
make onboarding                 onboarding               30   f_avg_brown    oblique          tune
# hand at the face, head pitch and looking around (laptop), two-person role-plays (side, oblique)
make face_touching              face_touching            33   m_avg_light    laptop           tune
make head_pitch_laptop          head_pitch_laptop        34   f_slim_medium  laptop           tune
make gaze_around_laptop         gaze_around_laptop       35   m_heavy_dark   laptop           tune
make roleplay_side              roleplay_handshake_card  36   m_avg_light    side_right       tune
make roleplay_oblique           roleplay_handshake_card  37   f_avg_brown    oblique_right    tune
# held out (split eval): other bodies, seeds and camera angles
make eval_arms_crossed          neutral_vs_arms_crossed  101  f_heavy_light  oblique_right    eval
make eval_hands_on_hips_right   hands_on_hips_right      102  m_older_tan    front_full       eval
make eval_hunched_side          hunched_side             103  f_heavy_light  side_right       eval
make eval_legs_crossed          legs_crossed             104  m_older_tan    oblique_right    eval
make eval_shoulders_tilted      shoulders_tilted         105  m_older_tan    front_rolled     eval
make eval_sitting_back          sitting_upright_vs_back  106  f_heavy_light  side             eval
make eval_smile_laptop          smile_laptop             107  f_heavy_light  laptop           eval
make eval_leg_shaking           leg_shaking              108  m_older_tan    oblique_right    eval
make eval_fidgeting             fidgeting                109  f_heavy_light  oblique_right    eval
make eval_stance_women          stance_women             110  f_heavy_light  oblique_right    eval
make eval_stance_men            stance_men               111  m_older_tan    front_rolled     eval
make eval_onboarding            onboarding               112  f_heavy_light  oblique_right    eval

"$PY" -m posture_coach.synth.cli index "$OUT" > "$OUT/INDEX.md"
