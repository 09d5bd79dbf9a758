// A tiny made-up task payload for the editor's pure modules (state.js, write-queue.js): they must work
// with whatever layout the server sends.

export const LAYOUT = {
  names: ["nose", "l_eye", "r_eye", "foot", "chin", "brow", "thumb", "index"],
  parts: { body: [0, 3], feet: [3, 4], face: [4, 6], left_hand: [6, 8] },
  part_of: ["body", "body", "body", "feet", "face", "face", "left_hand", "left_hand"],
  focus_parts: ["body", "face", "left_hand"],
  validity_parts: ["face", "left_hand"],
  links: [[0, 1, "body"], [0, 2, "body"], [6, 7, "left_hand"]],
  colors: { body: "#3399ff", feet: "#ff8000", face: "#f72205", left_hand: "#00e060", connector: "#c0c0c0" },
};
export const N = LAYOUT.names.length;

export function payload(revision = 3) {
  const view = (id, shift) => ({
    id,
    camera: `cam${id}`,
    image_url: `/api/views/${id}/image/`,
    width: 1000,
    height: 1002,
    camera_params: { K: [[1, 0, 0], [0, 1, 0], [0, 0, 1]], R: [[1, 0, 0], [0, 1, 0], [0, 0, 1]], t: [0, 0, 0], dist: [0, 0, 0, 0, 0], size: [1000, 1002], model: "opencv" },
    base: Array.from({ length: N }, (_, k) => [100 + k * 10 + shift, 200]),
    current: Array.from({ length: N }, (_, k) => [100 + k * 10 + shift, 200]),
    corrected: new Array(N).fill(false),
    flags: new Array(N).fill("visible"),
    part_valid: { face: true, left_hand: true },
  });
  return {
    id: 7, status: "in_progress", revision, assignee: "ann", review_comment: "", can_edit: true,
    lock: { holder: "ann", mine: true }, frame: { id: 1, dataset: "d", subject: "S1", action: "Walking 1", index: 5 },
    layout: LAYOUT, views: [view(11, 0), view(12, 5)], corrected_keypoints: [], history_url: "/h/", submit_url: "/s/",
  };
}
